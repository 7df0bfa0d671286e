import * as path from 'path';

/** PATH plus the sbin folders Debian installs haproxy into (non-root shells often lack them). */
export function toolPath(): string {
  return [process.env.PATH ?? '', '/usr/local/sbin', '/usr/sbin', '/sbin'].join(path.delimiter);
}
