import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { TOOL_PATH } from '../../support/tools';

/** A self-signed certificate and its key, PEM, made for one test run. */
export interface ThrowawayCert {
  readonly certPem: string;
  readonly keyPem: string;
}

/**
 * Makes a self-signed certificate with the real `openssl`, valid for the given loopback IPs, into
 * `dir` (a temp dir the caller deletes). It never leaves the machine and is never committed.
 */
export function makeThrowawayCert(dir: string, ips: readonly string[]): ThrowawayCert {
  const certFile = path.join(dir, 'stand-in.crt');
  const keyFile = path.join(dir, 'stand-in.key');
  const args = [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-days', '1', '-subj', '/CN=stand-in-apiserver',
    '-addext', `subjectAltName=${ips.map((ip) => `IP:${ip}`).join(',')}`,
    '-keyout', keyFile, '-out', certFile,
  ];
  const run = spawnSync('openssl', args, { encoding: 'utf8', env: { ...process.env, PATH: TOOL_PATH } });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('openssl is not installed; run `npm run tools`');
  }
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`openssl req failed (${run.status}): ${run.stderr}`);
  return { certPem: fs.readFileSync(certFile, 'utf8'), keyPem: fs.readFileSync(keyFile, 'utf8') };
}
