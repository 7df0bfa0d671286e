/**
 * npm run preflight (and the first step of npm run deploy): asks the host, read-only, whether it can
 * hold the cluster the spec describes, before anything is created. Prints every finding at once;
 * exits 1 on any error, 0 otherwise (warnings only). Usage:
 *   node --require ./scripts/register-ts.js scripts/preflight.ts [--state FILE] [--record FILE]
 *     --state FILE   the cluster's Terraform state (default: terraform.<name>.tfstate in the project root)
 *     --record FILE  also write what the host reported, as JSON (how the unit tests' fixtures were made)
 */
import * as fs from 'fs';
import * as path from 'path';
import { askHost, defaultStateFile, formatFindings, preflightFindings } from '../preflight';
import { loadClusterSpecOrExit, planCluster } from '../spec';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string): string | undefined => {
    const i = args.indexOf(name);
    if (i === -1) return undefined;
    const value = args[i + 1];
    if (value === undefined || value.startsWith('--')) {
      process.stderr.write(`preflight: ${name} needs a file (got nothing)\n`);
      process.exit(2);
    }
    return value;
  };
  const unknown = args.filter((a, i) => a.startsWith('--') && !['--state', '--record'].includes(a) && !['--state', '--record'].includes(args[i - 1]));
  if (unknown.length > 0) {
    process.stderr.write(`preflight: unknown option ${unknown.join(' ')}; allowed: --state FILE, --record FILE\n`);
    process.exit(2);
  }
  const root = path.resolve(__dirname, '..');
  const { spec, source } = loadClusterSpecOrExit();
  const plan = planCluster(spec);
  const stateFile = path.resolve(option('--state') ?? defaultStateFile(plan, root));
  const report = await askHost(plan, { stateFile });
  const record = option('--record');
  if (record !== undefined) fs.writeFileSync(record, `${JSON.stringify(report, null, 2)}\n`);
  const findings = preflightFindings(plan, report);
  process.stderr.write(`cluster spec: ${source}\n${formatFindings(plan, findings)}\n`);
  if (findings.some((f) => f.severity === 'error')) {
    process.stderr.write('preflight: the host cannot hold this cluster as specified; nothing was created. Fix the errors above, or (knowing why) skip with --skip-preflight or K8S_LAB_SKIP_PREFLIGHT=1 (README "Preflight").\n');
    process.exit(1);
  }
}

main().catch((e: Error) => {
  process.stderr.write(`preflight: ${e.message}\n`);
  process.exit(3);
});
