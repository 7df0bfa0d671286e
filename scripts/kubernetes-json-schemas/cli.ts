/**
 * Writes kubeconform's standalone(-strict) JSON schemas from a Kubernetes swagger.json.
 * Usage: node --require ./scripts/register-ts.js scripts/kubernetes-json-schemas/cli.ts \
 *          --swagger PATH/swagger.json --out DIR [--not-strict]
 * Run by scripts/tools/kubeconform.sh.
 */
import * as fs from 'fs';
import * as path from 'path';
import { OpenApiDocument, standaloneSchemas } from './standalone-schemas';

function main(argv: readonly string[]): void {
  const value = (flag: string): string => {
    const i = argv.indexOf(flag);
    const v = i >= 0 ? argv[i + 1] : undefined;
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} is required: usage: cli.ts --swagger FILE --out DIR [--not-strict]`);
    return v;
  };
  const swaggerFile = value('--swagger');
  const outDir = value('--out');
  const doc = JSON.parse(fs.readFileSync(swaggerFile, 'utf8')) as OpenApiDocument;
  const files = standaloneSchemas(doc, { strict: !argv.includes('--not-strict') });
  fs.mkdirSync(outDir, { recursive: true });
  for (const [name, schema] of files) {
    fs.writeFileSync(path.join(outDir, name), `${JSON.stringify(schema)}\n`);
  }
  process.stdout.write(`wrote ${files.size} schemas to ${outDir}\n`);
}

main(process.argv.slice(2));
