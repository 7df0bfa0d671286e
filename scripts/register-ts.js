/**
 * Runs TypeScript files in node: `node --require ./scripts/register-ts.js main.ts`. The cdktf app
 * (cdktf.json), the cdk8s app (cdk8s.yaml), `npm run synth` and the npm scripts start this way.
 *
 * Each .ts file is transpiled by esbuild (no type-check: `npm run build` and CI do
 * that) and the result is kept in node_modules/.cache/k8s-lab-ts/, one file per source file, headed by
 * the SHA-256 of what it was made from: the source text, its path, esbuild's version and the options
 * below. A start whose sources did not change reads the cache and never loads esbuild; an edited file
 * no longer matches its entry and is transpiled again on the next start, with no extra command.
 * Each entry carries an inline source map: `NODE_OPTIONS=--enable-source-maps` makes stack traces point
 * at the .ts lines. It is not on by default: node would then also parse every dependency's source map
 * (cdktf ships them inline), which cost 0.1–0.25 s per start here.
 */
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const Module = require('module');
const path = require('path');

/** Where the transpiled files are kept; K8S_LAB_TS_CACHE_DIR moves it (the tests give each run its own). */
const CACHE_DIR = process.env.K8S_LAB_TS_CACHE_DIR || path.join(__dirname, '..', 'node_modules', '.cache', 'k8s-lab-ts');

/** What esbuild is asked for, the way tsconfig.json sets the compiler (target ES2022, CommonJS). */
const OPTIONS = {
  loader: 'ts',
  format: 'cjs',
  target: 'es2022',
  platform: 'node',
  sourcemap: 'inline',
  sourcesContent: false,
  tsconfigRaw: { compilerOptions: { target: 'ES2022', useDefineForClassFields: true, experimentalDecorators: true, esModuleInterop: true } },
};

/** esbuild's version: read from its package.json (cheap), so esbuild itself loads only on a cache miss. */
const ESBUILD_VERSION = JSON.parse(fs.readFileSync(require.resolve('esbuild/package.json'), 'utf8')).version;
const OPTIONS_KEY = `esbuild ${ESBUILD_VERSION} ${JSON.stringify(OPTIONS)}`;

let esbuild;

function transpile(source, filename) {
  esbuild ??= require('esbuild');
  return esbuild.transformSync(source, { ...OPTIONS, sourcefile: filename }).code;
}

/** The cached JavaScript for this source, or undefined; the cache is a speed-up only, so any error is a miss. */
function readCache(entry, hash) {
  try {
    const text = fs.readFileSync(entry, 'utf8');
    const newline = text.indexOf('\n');
    return text.slice(0, newline) === `// ${hash}` ? text.slice(newline + 1) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes an entry whole or not at all (a temporary file renamed over it), owner-only like the rest of the output. */
function writeCache(entry, hash, code) {
  try {
    fs.mkdirSync(CACHE_DIR, { recursive: true, mode: 0o700 });
    const temp = `${entry}.${process.pid}.tmp`;
    fs.writeFileSync(temp, `// ${hash}\n${code}`, { mode: 0o600 });
    fs.renameSync(temp, entry);
  } catch {
    // A read-only checkout still runs; it transpiles on every start.
  }
}

function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const hash = crypto.createHash('sha256').update(`${OPTIONS_KEY}\n${filename}\n`).update(source).digest('hex');
  const entry = path.join(CACHE_DIR, `${crypto.createHash('sha256').update(filename).digest('hex').slice(0, 32)}.js`);
  let code = readCache(entry, hash);
  if (code === undefined) {
    code = transpile(source, filename);
    writeCache(entry, hash, code);
  }
  module._compile(code, filename);
}

Module._extensions['.ts'] = compileTs;
