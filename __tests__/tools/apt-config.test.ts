import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { APT_CONFIG_PATH } from '../../bootstrap';
import { fileAt, planOf, userDataOf } from '../fixtures/bootstrap-helpers';
import { runTool } from '../support/tools';

// The real apt (the host's, Debian's apt-config) reads the apt drop-in a node that installs from the network is
// given, as every apt-get on the node will: `apt-config -c FILE shell` prints the values it parsed. (Whether apt-get
// then waits for a held lock is apt's own behaviour; the drop-in only has to set the keys apt reads.)

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'apt-config-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** What apt parses from `text` for the keys, as `NAME='value'` lines. */
function aptReads(text: string): { status: number | null; output: string } {
  const file = path.join(tmp, `drop-in-${Date.now()}`);
  fs.writeFileSync(file, text);
  return runTool('apt-config', ['-c', file, 'shell', 'LOCK_TIMEOUT', 'DPkg::Lock::Timeout', 'RETRIES', 'Acquire::Retries'], { timeoutMs: 30_000 });
}

// apt-config shows what apt parses; that apt-get then waits for a held lock and retries is apt's own behaviour,
// not exercised here.
test('apt parses DPkg::Lock::Timeout=600 and Acquire::Retries=5 from the drop-in of a worker\'s user-data', () => {
  // GIVEN the drop-in as the default cluster's worker gets it  WHEN apt reads it
  const plan = planOf();
  const { status, output } = aptReads(fileAt(userDataOf(plan, plan.workers[0]), APT_CONFIG_PATH).content);
  // THEN
  expect(status).toBe(0);
  expect(output.trim().split('\n').sort()).toEqual(["LOCK_TIMEOUT='600'", "RETRIES='5'"]);
});

test('apt refuses a drop-in with a syntax error, naming the file (so the check above can fail)', () => {
  const { status, output } = aptReads('DPkg::Lock::Timeout "600"\n');
  expect(status).not.toBe(0);
  expect(output).toMatch(/Syntax error|drop-in/);
});
