// Writes the node image's manifest as JSON (scripts/image/build.sh): reads tab-separated rows
//   component|image|cni  NAME  VERSION  PATH-IN-IMAGE  FILE-ON-THIS-MACHINE
//   override             UPSTREAM-NAME  NEW-NAME  NEW-TAG  -
// on stdin, hashes each file, and prints { kubernetesVersion, components, images, cni }.
'use strict';
const crypto = require('crypto');
const fs = require('fs');

const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const manifest = { kubernetesVersion: process.argv[2], components: [], images: [], cni: undefined };
const overrides = [];
for (const line of fs.readFileSync(0, 'utf8').split('\n').filter(Boolean)) {
  const [kind, name, version, where, file] = line.split('\t');
  if (kind === 'component') manifest.components.push({ name, version, path: where, sha256: sha256(file) });
  else if (kind === 'image') manifest.images.push({ name, version, archive: where, sha256: sha256(file) });
  else if (kind === 'cni') manifest.cni = { name, version, manifest: where, sha256: sha256(file) };
  else if (kind === 'override') overrides.push({ name, newName: version, newTag: where });
  else throw new Error(`write-manifest: unknown row kind ${JSON.stringify(kind)} in ${JSON.stringify(line)}`);
}
if (!manifest.cni) throw new Error('write-manifest: no cni row');
manifest.cni.imageOverrides = overrides;
process.stdout.write(JSON.stringify(manifest, null, 2) + '\n');
