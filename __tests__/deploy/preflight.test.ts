/**
 * The preflight against the real libvirtd: one case per check, each made real on the daemon, then
 * `npm run preflight` (and once `npm run deploy`) must stop, name the field and the fix, and create
 * nothing. A clean host passes. Objects: `k8s-lab-pf…` only, 10.213.9.0/24–10.213.10.0/24.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { ClusterSpecInput, DomainType } from '../../spec';
import { everyStep } from '../support/every-step';
import { ROOT } from '../support/tools';
import { startLibvirtd, stopStartedLibvirtd } from './support/libvirt-host';
import { acquireRunLock, releaseRunLock } from './support/test-cluster';
import {
  PF_CLUSTER,
  PF_NETNS,
  PF_OTHER_NETWORK,
  PF_ROUTED_CIDR,
  PF_TAKEN_CIDR,
  URI,
  domainXml,
  makeImage,
  makeRoutedNetns,
  makeWorkDir,
  mountTmpfs,
  mustVirsh,
  networkXml,
  pfObjects,
  pfSpec,
  removePfObjects,
  removeRoutedNetns,
  runPreflight,
  unmount,
} from './support/preflight-host';

let dir: string;
let image: string;

let locked = false;

beforeAll(() => {
  // One deploy-tier run at a time on this host: the objects removed below are named for the host, not the clone.
  acquireRunLock();
  locked = true;
  // GIVEN libvirtd answers (scripts/libvirtd.sh starts it if absent) and nothing of ours is left
  startLibvirtd('');
  removePfObjects();
  removeRoutedNetns();
  dir = makeWorkDir();
  image = makeImage(dir);
});

afterAll(async () => {
  // Another run's lock means its objects, not ours: leave them alone.
  if (!locked) return;
  // Each step runs whatever the one before it threw (libvirtd gone, say): the namespace and the tmpfs go anyway.
  await everyStep([
    removePfObjects,
    removeRoutedNetns,
    () => {
      if (dir) {
        unmount(path.join(dir, 'small'));
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    () => stopStartedLibvirtd(),
    releaseRunLock,
  ]);
});

/** Runs the preflight on `doc` and checks that it created nothing. */
function preflight(doc: ClusterSpecInput, fixture: string, options: { netns?: string } = {}) {
  const before = pfObjects();
  const run = runPreflight(dir, doc, fixture, options);
  expect(pfObjects()).toEqual(before);
  return run;
}

test('a host that can hold the cluster passes with no error', () => {
  const run = preflight(pfSpec(dir, image), 'clean-host');
  expect(run.output).toMatch(/preflight of cluster k8s-lab-pf at qemu:\/\/\/system: 0 error\(s\)/);
  expect(run.output).not.toMatch(/ERROR/);
  expect(run.status).toBe(0);
});

test('fails when another libvirt network already holds the CIDR, and creates nothing', () => {
  // GIVEN a running libvirt network of its own on the CIDR
  const xml = path.join(dir, 'other-net.xml');
  fs.writeFileSync(xml, networkXml(PF_OTHER_NETWORK, PF_TAKEN_CIDR));
  mustVirsh('net-define', xml);
  try {
    mustVirsh('net-start', PF_OTHER_NETWORK);
    // WHEN the spec asks for that CIDR
    const run = preflight(pfSpec(dir, image, { network: { cidr: PF_TAKEN_CIDR, domain: 'pf.k8s-lab.test' } }), 'network-cidr-taken');
    // THEN it names the field, the network holding it, and a free CIDR to use instead
    expect(run.status).toBe(1);
    expect(run.output).toMatch(/ERROR network\.cidr: 10\.213\.10\.0\/24\n\s+host: libvirt network k8s-lab-pf-other-net \(active\) has 10\.213\.10\.0\/24\n\s+fix: +choose a network\.cidr that overlaps no other network, e\.g\. \S+, or remove k8s-lab-pf-other-net \(virsh -c qemu:\/\/\/system net-destroy k8s-lab-pf-other-net; virsh -c qemu:\/\/\/system net-undefine k8s-lab-pf-other-net\)/);
  } finally {
    removePfObjects();
  }
});

test('fails when libvirt does not answer at the URI, and still reports the rest it can', () => {
  // GIVEN a URI whose socket does not exist, and a missing image
  const uri = 'qemu+unix:///system?socket=/nonexistent/k8s-lab-pf.sock';
  const run = preflight(pfSpec(dir, path.join(dir, 'missing.qcow2'), { libvirt: { uri, poolPath: path.join(dir, 'pool'), domainType: DomainType.QEMU } }), 'libvirt-not-answering');
  expect(run.status).toBe(1);
  expect(run.output).toMatch(/ERROR libvirt\.uri: qemu\+unix:\/\/\/system\?socket=\/nonexistent\/k8s-lab-pf\.sock\n\s+host: libvirt does not answer: error: Failed to connect socket to '\/nonexistent\/k8s-lab-pf\.sock': No such file or directory\n\s+fix: +start libvirtd/);
  expect(run.output).toMatch(/ERROR image\.source: /);
});

test("fails when the connection does not offer the spec's domain type (libvirt's test driver offers none)", () => {
  const run = preflight(pfSpec(dir, image, { libvirt: { uri: 'test:///default', poolPath: path.join(dir, 'pool'), domainType: DomainType.QEMU } }), 'domain-type-not-offered');
  expect(run.status).toBe(1);
  expect(run.output).toMatch(/ERROR libvirt\.domainType: qemu\n\s+host: libvirt does not offer domain type qemu: error: this function is not supported by the connection driver: virConnectGetDomainCapabilities\n\s+fix: +install QEMU on the host/);
});

test('fails when a host route covers the CIDR (in a network namespace of its own), and creates nothing', () => {
  // GIVEN a namespace whose only route besides loopback is 10.213.12.0/24 on a veth
  makeRoutedNetns();
  try {
    const run = preflight(pfSpec(dir, image, { network: { cidr: PF_ROUTED_CIDR, domain: 'pf.k8s-lab.test' } }), 'host-route-covers-cidr', { netns: PF_NETNS });
    expect(run.status).toBe(1);
    expect(run.output).toMatch(/ERROR network\.cidr: 10\.213\.12\.0\/24\n\s+host: a host route covers it: 10\.213\.12\.0\/24 dev k8s-lab-pf-a proto kernel scope link src 10\.213\.12\.1.*\n\s+fix: +choose a network\.cidr that no route covers, e\.g\. \S+; libvirt would refuse to start the network/);
  } finally {
    removeRoutedNetns();
  }
});

test('fails when a network and a pool with the planned names are left over, naming each and how to remove it', () => {
  // GIVEN an inactive network k8s-lab-pf-net and an inactive pool k8s-lab-pf, defined by hand
  const xml = path.join(dir, 'leftover-net.xml');
  fs.writeFileSync(xml, networkXml(`${PF_CLUSTER}-net`, '10.213.11.0/24'));
  mustVirsh('net-define', xml);
  mustVirsh('pool-define-as', PF_CLUSTER, 'dir', '--target', path.join(dir, 'leftover-pool'));
  try {
    const run = preflight(pfSpec(dir, image), 'leftover-network-and-pool');
    expect(run.status).toBe(1);
    // (an inactive pool reports 0 bytes available; that is no answer, and no third error)
    expect(run.output).toMatch(/: 2 error\(s\)/);
    expect(run.output).toMatch(/ERROR name: k8s-lab-pf\n\s+host: libvirt network k8s-lab-pf-net already exists \(inactive, 10\.213\.11\.0\/24\), and \S+ does not own it\n\s+fix: +remove it if it is a leftover: virsh -c qemu:\/\/\/system net-undefine k8s-lab-pf-net/);
    expect(run.output).toMatch(/ERROR name: k8s-lab-pf\n\s+host: storage pool k8s-lab-pf already exists \(inactive, at \S+\/leftover-pool\), and \S+ does not own it\n\s+fix: +remove it if it is a leftover: virsh -c qemu:\/\/\/system pool-destroy k8s-lab-pf/);
  } finally {
    removePfObjects();
  }
});

test('fails when the pool path is on a file system too small for the disks, and creates nothing', () => {
  // GIVEN a 64 MiB tmpfs
  const small = mountTmpfs(dir, '64m');
  try {
    const run = preflight(pfSpec(dir, image, { libvirt: { uri: URI, poolPath: path.join(small, 'pool'), domainType: DomainType.QEMU } }), 'pool-path-small');
    // THEN it names the field, the free space, what the plan needs, and the fix
    expect(run.status).toBe(1);
    expect(run.output).toMatch(new RegExp(`ERROR libvirt\\.poolPath: ${small}/pool\\n\\s+host: the file system of ${small} has 0\\.1 GiB free; the plan needs 10\\.\\d GiB \\(2 disks at full size \\+ the base image \\+ cloud-init ISOs\\)\\n\\s+fix: +choose a libvirt\\.poolPath on a larger file system`));
    expect(fs.readdirSync(small)).toEqual([]);
  } finally {
    unmount(small);
  }
});

test('fails when QEMU could not enter a directory above the pool, and creates nothing', () => {
  // GIVEN a 0700 directory owned by root above the pool path (QEMU runs as libvirt's DAC user, not root)
  const privateDir = path.join(dir, 'private');
  fs.mkdirSync(privateDir, { mode: 0o700 });
  try {
    const run = preflight(pfSpec(dir, image, { libvirt: { uri: URI, poolPath: path.join(privateDir, 'pool'), domainType: DomainType.QEMU } }), 'pool-parent-not-searchable');
    expect(run.status).toBe(1);
    expect(run.output).toMatch(new RegExp(`ERROR libvirt\\.poolPath: ${privateDir}/pool\\n\\s+host: QEMU runs as uid \\d+, gid \\d+ \\(libvirt's DAC label, virsh capabilities\\) and may not enter ${privateDir} \\(mode 0700, owner 0:0\\)`));
    expect(run.output).toMatch(new RegExp(`fix: +let it through \\(chmod o\\+x ${privateDir}\\)`));
  } finally {
    fs.rmSync(privateDir, { recursive: true, force: true });
  }
});

test('fails when the VMs need more memory than the host has, and creates nothing', () => {
  const total = Number(/^total\s*:\s+(\d+) KiB/m.exec(mustVirsh('nodememstats'))![1]) / 1024;
  // GIVEN control planes of 256 GiB each: each alone is more than this host has
  const run = preflight(pfSpec(dir, image, { controlPlane: { count: 3, vcpu: 2, memoryMiB: 262144, diskGiB: 5 } }), 'memory-exceeds-host');
  expect(total).toBeLessThan(262144);
  expect(run.status).toBe(1);
  expect(run.output).toMatch(/ERROR controlPlane\.memoryMiB: 262144\n\s+host: \d+ MiB of memory in all \(virsh nodememstats\)\n\s+fix: +set controlPlane\.memoryMiB below \d+/);
});

test('fails when the base image does not exist, and creates nothing', () => {
  const missing = path.join(dir, 'no-such-image.qcow2');
  const run = preflight(pfSpec(dir, missing), 'base-image-missing');
  expect(run.status).toBe(1);
  expect(run.output).toMatch(new RegExp(`ERROR image\\.source: ${missing}\\n\\s+host: no such file on this machine .*\\n\\s+fix: +download the image to that path`));
});

test('fails when a domain with a planned name is left over, naming it and how to remove it, and creates nothing', () => {
  // GIVEN a domain named like the cluster's control plane (defined, never started), unknown to any state
  const xml = path.join(dir, 'leftover.xml');
  fs.writeFileSync(xml, domainXml(`${PF_CLUSTER}-cp-1`));
  mustVirsh('define', xml);
  try {
    const run = preflight(pfSpec(dir, image), 'leftover-domain');
    expect(run.status).toBe(1);
    expect(run.output).toMatch(/ERROR name: k8s-lab-pf\n\s+host: domain k8s-lab-pf-cp-1 already exists \(shut off\), and \S+terraform\.tfstate does not own it\n\s+fix: +remove it if it is a leftover: virsh -c qemu:\/\/\/system undefine k8s-lab-pf-cp-1/);

    // AND WHEN the state owns that domain (its name and UUID), as after an earlier deploy of this cluster
    const uuid = mustVirsh('domuuid', `${PF_CLUSTER}-cp-1`).trim();
    fs.writeFileSync(path.join(dir, 'terraform.tfstate'), JSON.stringify({ version: 4, resources: [{ mode: 'managed', type: 'libvirt_domain', name: 'x', instances: [{ attributes: { id: uuid, name: `${PF_CLUSTER}-cp-1` } }] }] }));
    // THEN it is this cluster's own, and the preflight passes
    const owned = preflight(pfSpec(dir, image), 'leftover-domain-owned');
    expect(owned.output).not.toMatch(/ERROR/);
    expect(owned.status).toBe(0);
  } finally {
    fs.rmSync(path.join(dir, 'terraform.tfstate'), { force: true });
    removePfObjects();
  }
});

test('npm run deploy stops at the preflight with every reason listed, before anything is created', () => {
  // GIVEN a spec with two problems at once: a missing image and too much memory
  const spec = path.join(dir, 'deploy.yaml');
  fs.writeFileSync(spec, YAML.stringify(pfSpec(dir, path.join(dir, 'missing.qcow2'), { controlPlane: { count: 1, vcpu: 2, memoryMiB: 262144, diskGiB: 5 } })));
  const before = pfObjects();
  // WHEN it is deployed the user's way (the preflight on, whatever the caller's environment says; secrets and synth
  // output in the test's folder; `timeout` ends npm and its process group if it hangs: the preflight runs there,
  // before cdktf starts terraform in a session of its own)
  const stateFiles = [`terraform.${PF_CLUSTER}.tfstate`, `terraform.${PF_CLUSTER}.tfstate.backup`].map((f) => path.join(ROOT, f));
  try {
    const run = spawnSync('timeout', ['-k', '10', '280', 'npm', 'run', '--silent', 'deploy', '--', '--auto-approve', '--output', path.join(dir, 'cdktf.out')], {
      cwd: ROOT,
      env: { ...process.env, CLUSTER_CONFIG: spec, K8S_LAB_SKIP_PREFLIGHT: '0', K8S_LAB_SECRETS_DIR: path.join(dir, 'secrets'), npm_config_update_notifier: 'false' },
      encoding: 'utf8',
      timeout: 300_000,
    });
    const output = `${run.stdout}${run.stderr}`;
    // THEN it stops non-zero with both errors listed, and nothing was synthesized or created
    expect(run.status).not.toBe(0);
    expect(output).toMatch(/2 error\(s\)/);
    expect(output).toMatch(/ERROR image\.source: /);
    expect(output).toMatch(/ERROR controlPlane\.memoryMiB: 262144/);
    expect(fs.existsSync(path.join(dir, 'cdktf.out'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'secrets'))).toBe(false);
    expect(pfObjects()).toEqual(before);
    expect(stateFiles.filter((f) => fs.existsSync(f))).toEqual([]);
  } finally {
    // A run the preflight wrongly let through leaves no state in the working tree (its libvirt objects: afterAll).
    for (const f of stateFiles) fs.rmSync(f, { force: true });
  }
});
