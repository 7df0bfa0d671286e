/**
 * Runs every step in order, each whatever the ones before it threw; then throws the first error, if any: a tier's
 * cleanup, in which a step that fails (a daemon already gone) must not keep the next from running (the lock, the
 * folder with the CA keys).
 */
export async function everyStep(steps: readonly (() => unknown)[]): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length > 0) throw errors[0];
}
