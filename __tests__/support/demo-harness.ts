import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as YAML from 'yaml';
import { REGISTER_TS, ROOT } from './tools';

/** How a demo ended and everything it printed (stdout, then stderr). */
export interface DemoRun {
  readonly status: number | null;
  readonly output: string;
}

/**
 * What the demos' bad-input tests run against, in a temporary folder made before the file's tests and
 * removed after them: a `dist/` holding an empty web-backend.k8s.yaml, and a kubeconfig whose server
 * refuses connections.
 */
export interface DemoHarness {
  /** The temporary folder. */
  readonly tmp: string;
  /** The stand-in for `npm run synth`'s dist/: web-backend.k8s.yaml, an empty List. */
  readonly dist: string;
  /** A kubeconfig whose server is https://127.0.0.1:1 (connection refused), with a token. */
  readonly unreachable: string;
  /**
   * Runs a demo (a script in scripts/, `.sh` with bash, `.ts` through the project's TypeScript hook; or an absolute path) with `env`
   * over a clean environment: PATH, HOME and DIST_DIR (the harness's dist), no KUBECONFIG unless given.
   */
  demo(script: string, env: Record<string, string>, args?: string[], options?: { timeoutMs?: number }): DemoRun;
  /** The real kubectl of `npm run tools` (.tools/bin/kubectl); throws, saying to run it, when it is missing. */
  pinnedKubectl(): string;
}

/** Registers beforeAll/afterAll for a {@link DemoHarness}; its folder exists from beforeAll on. */
export function useDemoHarness(prefix: string): DemoHarness {
  let tmp = '';
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    fs.mkdirSync(path.join(tmp, 'dist'));
    fs.writeFileSync(path.join(tmp, 'dist', 'web-backend.k8s.yaml'), 'apiVersion: v1\nkind: List\nitems: []\n');
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'nowhere', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } }],
      // Some credential, as an admin kubeconfig has: with none, kubectl asks for a username on stdin.
      users: [{ name: 'nobody', user: { token: 'FAKE-not-a-token' } }],
      contexts: [{ name: 'nowhere', context: { cluster: 'nowhere', user: 'nobody' } }],
      'current-context': 'nowhere',
    };
    fs.writeFileSync(path.join(tmp, 'unreachable.kubeconfig'), YAML.stringify(config), { mode: 0o600 });
  });
  afterAll(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });
  return {
    get tmp() {
      return tmp;
    },
    get dist() {
      return path.join(tmp, 'dist');
    },
    get unreachable() {
      return path.join(tmp, 'unreachable.kubeconfig');
    },
    demo(script, env, args = [], options = {}) {
      const file = path.isAbsolute(script) ? script : path.join(ROOT, 'scripts', script);
      const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmp, DIST_DIR: path.join(tmp, 'dist') };
      const [command, commandArgs] = file.endsWith('.ts') ? ['node', ['--require', REGISTER_TS, file, ...args]] : ['bash', [file, ...args]];
      const run = spawnSync(command, commandArgs, { cwd: ROOT, env: { ...base, ...env }, encoding: 'utf8', timeout: options.timeoutMs ?? 60_000 });
      if (run.error) throw run.error;
      return { status: run.status, output: `${run.stdout}${run.stderr}` };
    },
    pinnedKubectl() {
      const pinned = path.join(ROOT, '.tools', 'bin', 'kubectl');
      if (!fs.existsSync(pinned)) throw new Error(`kubectl is missing (expected the real binary at ${pinned}); run \`npm run tools\` to build it`);
      return pinned;
    },
  };
}
