import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT, runWithTools } from '../support/tools';

// The bindings in .gen/ are committed (so `npm ci && npm run synth` needs no Go); this regenerates
// them with `cdktf get` from the provider built by `npm run tools` and fails on any drift.

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name)).map((f) => path.join(e.name, f)) : [e.name])).sort();
}

test('the committed .gen/ bindings are exactly what cdktf get generates from the real provider', () => {
  // GIVEN a scratch project with our cdktf.json, generating into its own .gen
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdktf-get-'));
  try {
    const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'cdktf.json'), 'utf8'));
    fs.writeFileSync(path.join(tmp, 'cdktf.json'), JSON.stringify({ ...config, codeMakerOutput: '.gen' }));
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(tmp, 'node_modules'));
    fs.writeFileSync(path.join(tmp, 'package.json'), '{"name":"scratch","private":true}');
    // WHEN cdktf get runs there
    const run = runWithTools(path.join(ROOT, 'node_modules', '.bin', 'cdktf'), ['get'], { cwd: tmp, env: { CI: '1' }, timeoutMs: 300_000 });
    expect({ status: run.status, output: run.status === 0 ? '' : run.stdout + run.stderr }).toEqual({ status: 0, output: '' });
    // THEN every generated file equals the committed one, and there are no more, no fewer
    const fresh = path.join(tmp, '.gen', 'providers', 'libvirt');
    const committed = path.join(ROOT, '.gen', 'providers', 'libvirt');
    expect(listFiles(fresh)).toEqual(listFiles(committed));
    for (const f of listFiles(fresh)) {
      expect({ file: f, same: fs.readFileSync(path.join(fresh, f), 'utf8') === fs.readFileSync(path.join(committed, f), 'utf8') }).toEqual({ file: f, same: true });
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
