/**
 * npm run preflight (and the first step of npm run deploy): asks the host, read-only, whether it can
 * hold the cluster the spec describes, before anything is created. Prints every finding at once;
 * exits 1 on any error, 0 otherwise (warnings only), 2 on a bad command line. Usage:
 *   node --require ./scripts/register-ts.js scripts/preflight.ts [--state FILE] [--record FILE]
 *     --state FILE   the cluster's Terraform state (default: terraform.<name>.tfstate in the project root)
 *     --record FILE  also write what the host reported, as JSON (how the unit tests' fixtures were made)
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { askHost, defaultStateFile, formatFindings, preflightFindings } from '../preflight';
import { loadClusterSpecOrExit, planCluster } from '../spec';

const USAGE = 'usage: preflight [--state FILE] [--record FILE]';

/** The command line, or exit 2 naming what is wrong with it: before the spec is read or the host asked. */
function parseArgsOrExit(args: readonly string[]): { state?: string; record?: string } {
  let values: { state?: string; record?: string };
  try {
    ({ values } = parseArgs({ args: [...args], options: { state: { type: 'string' }, record: { type: 'string' } }, strict: true, allowPositionals: false }));
  } catch (e) {
    process.stderr.write(`preflight: ${(e as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  for (const [name, value] of Object.entries(values)) {
    if (value === '' || value.startsWith('--')) {
      process.stderr.write(`preflight: --${name} needs a file, got ${JSON.stringify(value)}\n${USAGE}\n`);
      process.exit(2);
    }
  }
  // --record is written after the host was asked: a path that cannot take a file fails now, not then.
  if (values.record !== undefined) {
    const dir = path.dirname(path.resolve(values.record));
    const problem =
      fs.existsSync(values.record) && fs.statSync(values.record).isDirectory()
        ? 'is a folder'
        : !fs.existsSync(dir)
          ? `is in ${dir}, which does not exist`
          : !fs.statSync(dir).isDirectory()
            ? `is in ${dir}, which is a file`
            : undefined;
    if (problem !== undefined) {
      process.stderr.write(`preflight: --record must name a file to write, got ${JSON.stringify(values.record)}, which ${problem}\n${USAGE}\n`);
      process.exit(2);
    }
  }
  return values;
}

async function main(): Promise<void> {
  const options = parseArgsOrExit(process.argv.slice(2));
  const root = path.resolve(__dirname, '..');
  // An invalid spec is bad input, as a bad command line is: exit 2, before the host is asked.
  const { spec, source } = loadClusterSpecOrExit(2);
  const plan = planCluster(spec);
  const stateFile = path.resolve(options.state ?? defaultStateFile(plan, root));
  const report = await askHost(plan, { stateFile });
  if (options.record !== undefined) fs.writeFileSync(options.record, `${JSON.stringify(report, null, 2)}\n`);
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
