/**
 * scripts/register-ts.js, the hook every app and script starts with (`node --require ./scripts/register-ts.js
 * file.ts`): it runs TypeScript, keeps what esbuild made in a cache, and never serves a stale entry. Each test
 * runs real node processes on files in a scratch folder, with a cache folder of its own.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { literal } from '../support/regexp';
import { REGISTER_TS } from '../support/tools';

let tmp: string;
let cache: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'register-ts-'));
  cache = path.join(tmp, 'cache');
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Runs `file` through the hook; prints what the program printed and whether esbuild was loaded. */
function runTs(file: string) {
  const probe = `process.on('exit', () => console.log('esbuild loaded: ' + Object.keys(require.cache).some((k) => k.includes('${path.sep}esbuild${path.sep}'))))`;
  const run = spawnSync(process.execPath, ['--require', REGISTER_TS, '--eval', `${probe}; require(${JSON.stringify(file)})`], {
    env: { ...process.env, K8S_LAB_TS_CACHE_DIR: cache },
    encoding: 'utf8',
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A module that imports another and prints a value typed as TypeScript only allows. */
function writeProgram(greeting: string): string {
  fs.writeFileSync(path.join(tmp, 'greeting.ts'), `export const greeting: string = ${JSON.stringify(greeting)};\nexport enum Mood { Calm = 'calm' }\n`);
  const main = path.join(tmp, 'main.ts');
  fs.writeFileSync(main, `import { greeting, Mood } from './greeting';\ninterface Said { readonly text: string }\nconst said: Said = { text: greeting };\nconsole.log(said.text, Mood.Calm);\n`);
  return main;
}

test('runs TypeScript; the first start transpiles with esbuild, the next reads the cache and never loads esbuild', () => {
  const main = writeProgram('hello');
  const first = runTs(main);
  expect(first).toMatchObject({ status: 0, stdout: 'hello calm\nesbuild loaded: true\n' });
  expect(fs.readdirSync(cache)).toHaveLength(2);
  const second = runTs(main);
  expect(second).toMatchObject({ status: 0, stdout: 'hello calm\nesbuild loaded: false\n' });
});

test('an edit is seen by the next start, even one that keeps the size and the modification time', () => {
  // GIVEN a program run once (cached)
  const main = writeProgram('hello');
  expect(runTs(main).stdout).toContain('hello calm');
  const file = path.join(tmp, 'greeting.ts');
  const { mtime, size } = fs.statSync(file);
  // WHEN an imported file changes, same length, its modification time put back
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('hello', 'howdy'));
  fs.utimesSync(file, mtime, mtime);
  expect(fs.statSync(file).size).toBe(size);
  // THEN the next start runs the new text (transpiled again), and one more start reads that from the cache
  expect(runTs(main).stdout).toBe('howdy calm\nesbuild loaded: true\n');
  expect(runTs(main).stdout).toBe('howdy calm\nesbuild loaded: false\n');
  // AND going back to the old text runs the old text
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('howdy', 'hello'));
  expect(runTs(main).stdout).toContain('hello calm');
});

test('a damaged cache entry is not run: the file is transpiled again', () => {
  const main = writeProgram('hello');
  runTs(main);
  for (const entry of fs.readdirSync(cache)) fs.writeFileSync(path.join(cache, entry), 'throw new Error("stale")\n');
  expect(runTs(main)).toMatchObject({ status: 0, stdout: 'hello calm\nesbuild loaded: true\n' });
});

test('fails when a file does not parse, naming the file, line and column', () => {
  const bad = path.join(tmp, 'bad.ts');
  fs.writeFileSync(bad, 'const ok = 1;\nconst broken = ;\n');
  const run = runTs(bad);
  expect(run.status).not.toBe(0);
  expect(run.stderr).toMatch(new RegExp(`${literal(bad)}:2:15: ERROR: Unexpected ";"`));
});

test('the spec check preloaded after the hook speaks once on a cold cache, though esbuild\'s worker thread loads it too', () => {
  // GIVEN an empty cache (esbuild then starts a worker thread, which the preloads also run in)
  const checkSpec = path.resolve(REGISTER_TS, '..', 'check-spec.ts');
  // WHEN a program starts with both preloads in NODE_OPTIONS, as npm run synth starts the cdktf app
  const run = spawnSync(process.execPath, ['--eval', '0'], {
    env: { ...process.env, K8S_LAB_TS_CACHE_DIR: cache, CLUSTER_CONFIG: '', NODE_OPTIONS: `--require ${REGISTER_TS} --require ${checkSpec}` },
    encoding: 'utf8',
  });
  // THEN the verdict is printed once
  expect(run.status).toBe(0);
  expect(run.stderr.match(/^cluster spec: .*: valid$/gm)).toEqual(['cluster spec: embedded default: valid']);
});
