/**
 * How a command of ours ends on an error it did not expect to handle: one line, `<command> failed: <message>`,
 * on stderr and exit 1. The errors a user meets (a secrets file that does not parse, a path that is not a
 * folder, a tool that failed) say in their message what and where; a stack trace would only hide that. An error
 * that is a bug in this code (a TypeError, a ReferenceError, a RangeError) keeps its stack, for the report.
 */
export function exitWithReason(e: unknown, command = 'synth'): never {
  const error = e instanceof Error ? e : new Error(String(e));
  const bug = error instanceof TypeError || error instanceof ReferenceError || error instanceof RangeError;
  process.stderr.write(`${command} failed: ${bug ? error.stack : error.message}\n`);
  process.exit(1);
}
