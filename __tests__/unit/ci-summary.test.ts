import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// .ci/run's last line comes from scripts/ci-summary.js. Here real jest runs small suites in a scratch
// folder and writes its JSON results, as scripts/test-all.sh has it do; the summary is read from that file.
const ROOT = path.resolve(__dirname, '../..');
const JEST = path.join(ROOT, 'node_modules/jest/bin/jest.js');
const SUMMARY = path.join(ROOT, 'scripts/ci-summary.js');

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-summary-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Runs real jest on `suites` (file name → body) in a fresh folder; the summary lines of its JSON results. */
function summaryOf(name: string, suites: Record<string, string>): { jestStatus: number | null; lines: string[] } {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'jest.config.js'), "module.exports = { testMatch: ['**/*.test.js'] };\n");
  for (const [file, body] of Object.entries(suites)) fs.writeFileSync(path.join(dir, file), body);
  const results = path.join(dir, 'results.json');
  const jest = spawnSync(process.execPath, [JEST, '--rootDir', dir, '--ci', '--json', `--outputFile=${results}`], { cwd: dir, encoding: 'utf8' });
  const summary = spawnSync(process.execPath, [SUMMARY, results], { encoding: 'utf8' });
  expect(summary.stderr).toBe('');
  expect(summary.status).toBe(0);
  return { jestStatus: jest.status, lines: summary.stdout.trimEnd().split('\n') };
}

describe('the CI summary line', () => {
  test('counts passed and failed tests as jest does when every suite ran', () => {
    // GIVEN one suite with two passing tests and one failing, and one skipped test
    const suites = {
      'a.test.js': "test('one', () => {}); test('two', () => {}); test('three', () => { expect(1).toBe(2); }); test.skip('four', () => {});\n",
    };
    // WHEN real jest runs it
    const { jestStatus, lines } = summaryOf('all-ran', suites);
    // THEN
    expect(jestStatus).toBe(1);
    expect(lines).toEqual(['2 passed, 1 failed, 1 skipped']);
  });

  test('counts a suite that failed before any test ran as one failure, and names it', () => {
    // GIVEN a passing suite, and a suite whose describe body throws (as an expect at collection time does)
    const suites = {
      'ok.test.js': "test('one', () => {});\n",
      'broken.test.js': "describe('d', () => { expect('a').toBe('b'); test('never runs', () => {}); });\n",
    };
    // WHEN real jest runs them
    const { jestStatus, lines } = summaryOf('unrun', suites);
    // THEN jest fails the run with no failed test, and the summary does not say "0 failed"
    expect(jestStatus).toBe(1);
    expect(lines).toEqual([`suite failed to run: ${path.join(tmp, 'unrun', 'broken.test.js')}`, '1 passed, 1 failed']);
  });

  test('does not count a suite twice when its own tests failed', () => {
    // GIVEN a suite whose beforeAll throws: jest fails each of its tests
    const suites = { 'hook.test.js': "beforeAll(() => { throw new Error('no'); }); test('one', () => {}); test('two', () => {});\n" };
    // WHEN real jest runs it
    const { jestStatus, lines } = summaryOf('hook', suites);
    // THEN
    expect(jestStatus).toBe(1);
    expect(lines).toEqual(['0 passed, 2 failed']);
  });
});
