import { ChildProcess } from 'child_process';

/** One line a process wrote, and when this process read it (Date.now()). */
export interface LogLine {
  readonly at: number;
  readonly text: string;
}

/**
 * Appends every non-empty line `child` writes on stdout and stderr to `lines`, stamped with the
 * time it was read, and calls `onLine` after each chunk (to wake a waiter).
 */
export function recordLines(child: ChildProcess, lines: LogLine[], onLine: () => void = () => undefined): void {
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const at = Date.now();
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const text of parts) if (text.trim() !== '') lines.push({ at, text });
      onLine();
    });
  }
}
