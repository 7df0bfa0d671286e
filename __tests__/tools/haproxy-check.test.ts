import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { haproxyConfigForCluster } from '../../bootstrap/haproxy-config';
import { parseClusterSpec, planCluster } from '../../spec';
import { runTool } from '../support/tools';

// The real HAProxy (Debian's package, installed by `npm run tools`) parses the rendered
// haproxy.cfg: `haproxy -c -f FILE` loads and checks every section without binding anything.

function haproxyCheck(configText: string): { status: number | null; output: string } {
  const file = path.join(tmp, `haproxy-${Date.now()}-${Math.random().toString(36).slice(2)}.cfg`);
  fs.writeFileSync(file, configText);
  return runTool('haproxy', ['-c', '-f', file], { timeoutMs: 30_000 });
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'haproxy-check-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const defaultConfig = (): string => haproxyConfigForCluster(planCluster(parseClusterSpec({}).spec));

/** The rendered lines with one line changed, to show `haproxy -c` can fail. */
function tamper(config: string, from: string, to: string): string {
  const lines = config.split('\n');
  const i = lines.findIndex((l) => l.trim() === from);
  if (i < 0) throw new Error(`the rendered config has no line ${JSON.stringify(from)} to tamper with`);
  lines[i] = lines[i].replace(from, to);
  return lines.join('\n');
}

test("haproxy -c accepts the default cluster's haproxy.cfg without warnings", () => {
  // GIVEN the default cluster's rendered haproxy.cfg
  // WHEN the real haproxy checks it
  const { status, output } = haproxyCheck(defaultConfig());
  // THEN it is valid, and HAProxy has nothing to warn about
  expect(output).toMatch(/Configuration file is valid/);
  expect(output).not.toMatch(/\[WARNING\]|\[ALERT\]/);
  expect(status).toBe(0);
});

test('haproxy -c accepts a five-control-plane cluster', () => {
  const { status, output } = haproxyCheck(haproxyConfigForCluster(planCluster(parseClusterSpec({ controlPlane: { count: 5 } }).spec)));
  expect(output).toMatch(/Configuration file is valid/);
  expect(status).toBe(0);
});

describe('the check can fail', () => {
  test('haproxy -c rejects an unknown balance algorithm', () => {
    // GIVEN the rendered config with a misspelt balance algorithm
    const broken = tamper(defaultConfig(), 'balance roundrobin', 'balance roundrobbin');
    // WHEN checked
    const { status, output } = haproxyCheck(broken);
    // THEN haproxy refuses it, naming the problem
    expect(status).not.toBe(0);
    expect(output).toMatch(/\[ALERT\].*balance only supports/);
  });

  test('haproxy -c rejects a frontend pointing at a backend that does not exist', () => {
    const broken = tamper(defaultConfig(), 'default_backend apiserverbackend', 'default_backend apiserverbakend');
    const { status, output } = haproxyCheck(broken);
    expect(status).not.toBe(0);
    expect(output).toMatch(/apiserverbakend/);
  });
});
