import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Testing } from 'cdktf';
import { ClusterStack } from '../../constructs';
import { parseClusterSpec } from '../../spec';
import { FAKE_SECRETS } from '../fixtures/fake-secrets';
import { ROOT, RunResult, runWithTools } from '../support/tools';

// The OpenTofu fallback of scripts/tools/terraform-cli.sh, forced with K8S_LAB_TERRAFORM=tofu so it
// runs on machines that have terraform too: OpenTofu is built from the Go module proxy (the first
// run takes minutes; later runs reuse the build through a stamp), then `tofu init` + `tofu validate`
// run against the project's provider mirror, as cdktf would with TERRAFORM_BINARY_NAME=tofu.

const SCRIPT = path.join(ROOT, 'scripts', 'tools', 'terraform-cli.sh');
const TOFU = path.join(ROOT, '.tools', 'bin', 'tofu');
const STAMP = path.join(ROOT, '.tools', 'build', 'tofu.stamp');
/** A cold build is ~5 min of CPU (more on a busy machine); the test tier's default is 10 min. */
const BUILD_TIMEOUT_MS = 45 * 60_000;

/** Runs terraform-cli.sh with K8S_LAB_TERRAFORM (unset when undefined) and the given PATH. */
function terraformCli(choice: string | undefined, pathVar = process.env.PATH ?? ''): RunResult {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: pathVar };
  delete env.K8S_LAB_TERRAFORM;
  if (choice !== undefined) env.K8S_LAB_TERRAFORM = choice;
  const run = spawnSync(bashPath(), [SCRIPT], { cwd: ROOT, env, encoding: 'utf8', timeout: BUILD_TIMEOUT_MS });
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function bashPath(): string {
  const found = spawnSync('bash', ['-c', 'command -v bash'], { encoding: 'utf8' });
  return found.stdout.trim() || 'bash';
}

/**
 * A directory of links to exactly the commands terraform-cli.sh uses (go too, should it need to
 * build), and no terraform: a real machine without terraform, not a stand-in for one.
 */
function pathWithoutTerraform(tmp: string): string {
  const bin = fs.mkdtempSync(path.join(tmp, 'bin-without-terraform-'));
  for (const tool of ['basename', 'cat', 'chmod', 'cut', 'dirname', 'go', 'head', 'mkdir', 'mktemp', 'mv', 'rm', 'sed', 'sha256sum']) {
    const found = spawnSync('bash', ['-c', 'command -v "$1"', 'bash', tool], { encoding: 'utf8' });
    if (found.status === 0) fs.symlinkSync(found.stdout.trim(), path.join(bin, tool));
  }
  return bin;
}

/** The OpenTofu version tools/opentofu/go.mod requires, without the leading v. */
function pinnedVersion(): string {
  const goMod = fs.readFileSync(path.join(ROOT, 'tools', 'opentofu', 'go.mod'), 'utf8');
  const match = /^\s*(?:require\s+)?github\.com\/opentofu\/opentofu v(\S+)/m.exec(goMod);
  if (!match) throw new Error('tools/opentofu/go.mod does not require github.com/opentofu/opentofu');
  return match[1];
}

/** `tofu init` then `tofu validate -json` in dir, with the project's CLI config (.tools/env). */
function tofuValidate(dir: string): { valid: boolean; diagnostics: string } {
  const init = runWithTools('tofu', [`-chdir=${dir}`, 'init', '-input=false', '-no-color', '-backend=false']);
  if (init.status !== 0) throw new Error(`tofu init failed in ${dir}:\n${init.stdout}${init.stderr}`);
  const run = runWithTools('tofu', [`-chdir=${dir}`, 'validate', '-json', '-no-color']);
  const result = JSON.parse(run.stdout) as { valid: boolean; diagnostics: { severity: string; summary: string; detail?: string }[] };
  return { valid: result.valid, diagnostics: result.diagnostics.map((d) => `${d.severity}: ${d.summary}${d.detail ? ` - ${d.detail}` : ''}`).join('\n') };
}

/** A configuration with one libvirt_pool from dmacvicar/libvirt 0.8.3, plus extra pool arguments. */
function writePoolConfig(dir: string, extra: Record<string, unknown> = {}): string {
  fs.mkdirSync(dir, { recursive: true });
  const config = {
    terraform: { required_providers: { libvirt: { source: 'dmacvicar/libvirt', version: '0.8.3' } } },
    provider: { libvirt: [{ uri: 'qemu:///system' }] },
    resource: { libvirt_pool: { images: { name: 'tofu-check', type: 'dir', target: { path: '/var/lib/libvirt/tofu-check' }, ...extra } } },
  };
  fs.writeFileSync(path.join(dir, 'main.tf.json'), JSON.stringify(config, null, 2));
  return dir;
}

let tmp: string;
let firstRun: RunResult;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opentofu-fallback-'));
  // Builds OpenTofu unless the stamp says .tools/bin/tofu is already this build.
  firstRun = terraformCli('tofu');
}, BUILD_TIMEOUT_MS);
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('terraform-cli.sh with K8S_LAB_TERRAFORM=tofu', () => {
  test('builds OpenTofu at the version tools/opentofu pins and names it', () => {
    // GIVEN the forced fallback has run  THEN it chose tofu
    expect(firstRun.stderr).not.toMatch(/error:/);
    expect(firstRun.status).toBe(0);
    expect(firstRun.stdout).toBe('tofu\n');
    // AND the binary is the pinned release (no -dev suffix)
    const version = runWithTools(TOFU, ['version', '-json']);
    expect(version.status).toBe(0);
    expect(JSON.parse(version.stdout.slice(version.stdout.indexOf('{')))).toMatchObject({ terraform_version: pinnedVersion(), platform: 'linux_amd64' });
  });

  test('a second run reuses the build (the stamp matches)', () => {
    // WHEN run again  THEN nothing is rebuilt
    const again = terraformCli('tofu');
    expect(again.status).toBe(0);
    expect(again.stdout).toBe('tofu\n');
    expect(again.stderr).toMatch(/OpenTofu already built/);
    expect(again.stderr).not.toMatch(/building OpenTofu/);
  });

  test('rebuilds when the stamp does not match tools/opentofu (the check can fail)', () => {
    // GIVEN a stamp left by another go.mod/go.sum
    const good = fs.readFileSync(STAMP, 'utf8');
    fs.writeFileSync(STAMP, 'stamp-of-another-go-sum\n');
    // WHEN run  THEN it builds again (from Go's build cache) and writes the right stamp back
    const rebuilt = terraformCli('tofu');
    expect(rebuilt.status).toBe(0);
    expect(rebuilt.stderr).toMatch(/building OpenTofu from the Go module proxy/);
    expect(fs.readFileSync(STAMP, 'utf8')).toBe(good);
  }, BUILD_TIMEOUT_MS);
});

describe('terraform-cli.sh choosing the CLI', () => {
  test('auto falls back to OpenTofu where PATH has no terraform', () => {
    // GIVEN a PATH without terraform  WHEN the choice is left to the script
    const run = terraformCli(undefined, pathWithoutTerraform(tmp));
    // THEN it says why and picks the OpenTofu built here
    expect(run.stderr).toMatch(/no terraform on PATH/);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('tofu\n');
  });

  test('fails when K8S_LAB_TERRAFORM=terraform and PATH has no terraform', () => {
    const run = terraformCli('terraform', pathWithoutTerraform(tmp));
    expect(run.status).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/K8S_LAB_TERRAFORM=terraform needs terraform >= 1\.5 on PATH/);
  });

  test('fails when K8S_LAB_TERRAFORM is not a known choice', () => {
    const run = terraformCli('opentofu');
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/K8S_LAB_TERRAFORM must be one of auto, terraform, tofu; got 'opentofu'/);
  });
});

describe('tofu validate with the project provider mirror', () => {
  test('accepts a libvirt_pool, with dmacvicar/libvirt 0.8.3 from the mirror entry for OpenTofu\'s registry', () => {
    // GIVEN one libvirt_pool  WHEN tofu inits and validates it
    const dir = writePoolConfig(path.join(tmp, 'pool'));
    const result = tofuValidate(dir);
    // THEN it is valid, and the provider came from registry.opentofu.org's mirror entry
    expect(result.diagnostics).toBe('');
    expect(result.valid).toBe(true);
    const lock = fs.readFileSync(path.join(dir, '.terraform.lock.hcl'), 'utf8');
    expect(lock).toMatch(/provider "registry\.opentofu\.org\/dmacvicar\/libvirt" \{\s*version\s*= "0\.8\.3"/);
  });

  test('rejects an argument libvirt_pool does not have (the check can fail)', () => {
    const result = tofuValidate(writePoolConfig(path.join(tmp, 'pool-wrong'), { size_gib: 10 }));
    expect(result.valid).toBe(false);
    expect(result.diagnostics).toMatch(/No argument or block type is named "size_gib"/);
  });

  test('accepts the default cluster as cdktf synthesizes it', () => {
    // GIVEN the default ClusterStack, fully synthesized
    const { spec } = parseClusterSpec({});
    const stack = new ClusterStack(Testing.app(), { spec, secrets: FAKE_SECRETS });
    const dir = path.join(Testing.fullSynth(stack), 'stacks', spec.name);
    // WHEN tofu validates it  THEN OpenTofu accepts what terraform accepts
    const result = tofuValidate(dir);
    expect(result.diagnostics).toBe('');
    expect(result.valid).toBe(true);
  });
});
