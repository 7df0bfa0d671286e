import { runAsync } from '../e2e/support/docker-in-netns';

// The e2e tier's waits run `docker exec` again and again while nodes boot; one that ended before reading its
// stdin once failed the whole wait with "write EPIPE" (a CI rehearsal, 2026-12-06) instead of being asked again.

describe('runAsync', () => {
  test('a command that exits without reading its input resolves with its own status, not an EPIPE error', async () => {
    // GIVEN a command that never reads stdin and fails at once, and more input than a pipe holds
    const input = 'x'.repeat(4 * 1024 * 1024);
    // WHEN it is run with that input
    const result = await runAsync('sh', ['-c', 'exec 0<&-; exit 3'], { input });
    // THEN the result is the command's own: its status, not a rejected promise
    expect(result.status).toBe(3);
  });

  test('input is passed to a command that reads it', async () => {
    const result = await runAsync('cat', [], { input: 'hello\n' });
    expect(result).toEqual({ status: 0, stdout: 'hello\n', stderr: '' });
  });
});
