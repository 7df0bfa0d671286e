import { CloudConfigFile } from '../cloud-config';

/**
 * One step of a node's bootstrap: the files it needs (written by cloud-init's `write_files`) and
 * its bash script, installed as `/usr/local/sbin/k8s-lab-<name>.sh` and run by the node's runner.
 */
export interface BootstrapStep {
  /** Lowercase words joined by `-`: part of the script's path and of every log line's prefix. */
  readonly name: string;
  /** Files the script reads; written before any step runs. */
  readonly files: readonly CloudConfigFile[];
  /** The complete script (see private/shell.ts `bashScript`). */
  readonly script: string;
}

/** A root-owned file: the text joined from lines, ending with a newline. */
export function fileOf(path: string, lines: readonly string[], permissions: string): CloudConfigFile {
  return { path, content: lines.join('\n') + '\n', permissions };
}
