/**
 * Small helpers for the bash scripts the bootstrap writes onto the VMs. Scripts are `string[]`
 * line lists joined once; every value that comes from the spec goes through `shellQuote`.
 */

/** Characters that never need quoting in a bash word. */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one value as a single bash word (single quotes; `'` becomes `'\''`). */
export function shellQuote(value: string): string {
  if (SAFE_WORD.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `readonly NAME=value`, with the value quoted. */
export function shellConst(name: string, value: string | number): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`shell variable name must be lower_snake_case, got ${JSON.stringify(name)}`);
  return `readonly ${name}=${shellQuote(String(value))}`;
}

/** What a bootstrap script is. */
export interface BashScriptInput {
  /** Comment lines under the shebang: what the script does and when it is safe to re-run. */
  readonly description: readonly string[];
  /** The script's body, one line each. */
  readonly body: readonly string[];
}

/** A complete bash script: shebang, description, strict mode, body; joined once, ending in a newline. */
export function bashScript(input: BashScriptInput): string {
  return [
    '#!/bin/bash',
    ...input.description.map((line) => (line === '' ? '#' : `# ${line}`)),
    'set -euo pipefail',
    '',
    ...input.body,
  ].join('\n') + '\n';
}
