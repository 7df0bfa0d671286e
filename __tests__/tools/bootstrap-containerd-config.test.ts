import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { containerdConfig, pauseImageFor } from '../../bootstrap';
import { requireTool, runTool } from '../support/tools';

// Debian's containerd (1.6, installed by `npm run tools`) loads the rendered config.toml and dumps
// the configuration it would run with. containerd ignores tables it does not know, so the test
// reads the values back from the dump: a misspelt table path leaves containerd's default there.

let tmp: string;
beforeAll(() => {
  requireTool('containerd');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'containerd-config-'));
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function configDump(lines: readonly string[], name: string): { status: number | null; output: string } {
  const file = path.join(tmp, `${name}.toml`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return runTool('containerd', ['--config', file, 'config', 'dump'], { timeoutMs: 60_000 });
}

/** The key lines directly under `[header]` in a dump, up to the next table header. */
function table(dump: string, header: string): string[] {
  const lines = dump.split('\n');
  const start = lines.findIndex((l) => l.trim() === `[${header}]`);
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && l.trim().startsWith('['));
  return lines.slice(start + 1, end < 0 ? undefined : end).map((l) => l.trim()).filter((l) => l !== '');
}

const CRI = 'plugins."io.containerd.grpc.v1.cri"';

test.each(['1.34.4', '1.36.3'])('containerd runs Kubernetes %s pods with systemd cgroups, kubeadm\'s pause image and /opt/cni/bin', (version) => {
  // WHEN
  const dump = configDump(containerdConfig(version), `k8s-${version}`);
  // THEN
  expect(dump.status).toBe(0);
  expect(table(dump.output, `${CRI}.containerd.runtimes.runc.options`)).toContain('SystemdCgroup = true');
  expect(table(dump.output, `${CRI}.containerd.runtimes.runc`)).toContain('runtime_type = "io.containerd.runc.v2"');
  expect(table(dump.output, `${CRI}.containerd`)).toContain('default_runtime_name = "runc"');
  expect(table(dump.output, CRI)).toContain(`sandbox_image = "${pauseImageFor(version)}"`);
  expect(table(dump.output, `${CRI}.cni`)).toEqual(expect.arrayContaining(['bin_dir = "/opt/cni/bin"', 'conf_dir = "/etc/cni/net.d"']));
});

test('containerd.restrictOomScoreAdj: the CRI plugin runs with restrict_oom_score_adj = true; off, with containerd\'s default false', () => {
  // WHEN
  const on = configDump(containerdConfig('1.36.3', { restrictOomScoreAdj: true }), 'restrict-oom-on');
  const off = configDump(containerdConfig('1.36.3'), 'restrict-oom-off');
  // THEN
  expect(on.status).toBe(0);
  expect(table(on.output, CRI)).toContain('restrict_oom_score_adj = true');
  expect(table(on.output, `${CRI}.containerd.runtimes.runc.options`)).toContain('SystemdCgroup = true');
  expect(off.status).toBe(0);
  expect(table(off.output, CRI)).toContain('restrict_oom_score_adj = false');
});

describe('the check can fail', () => {
  test('a misspelt table leaves containerd\'s defaults, which the dump shows', () => {
    const typo = containerdConfig('1.36.3').map((l) => l.replace('runtimes.runc.options]', 'runtimes.runc.optionz]'));
    const dump = configDump(typo, 'typo');
    expect(dump.status).toBe(0);
    expect(table(dump.output, `${CRI}.containerd.runtimes.runc.options`)).not.toContain('SystemdCgroup = true');
  });
  test('containerd rejects a file that is not TOML', () => {
    const dump = configDump(['version = 2', '[plugins'], 'broken');
    expect(dump.status).not.toBe(0);
    expect(dump.output).toMatch(/failed to load TOML/);
  });
});
