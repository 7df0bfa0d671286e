import * as net from 'net';
import { HaproxyHealthCheck } from '../../../bootstrap/haproxy-config';

/**
 * Reads the health-check timing back out of a rendered haproxy.cfg, so the failover test's
 * bounds come from the file HAProxy actually ran, not from what the test meant to ask for.
 * Every server line must carry the same `inter`, `fall` and `rise`.
 */
export function healthCheckOf(configText: string): HaproxyHealthCheck {
  const ms = (v: string): number => {
    const m = /^(\d+)(ms|s)?$/.exec(v);
    if (!m) throw new Error(`unreadable HAProxy duration ${JSON.stringify(v)}`);
    return m[2] === 's' ? Number(m[1]) * 1000 : Number(m[1]);
  };
  const lines = configText.split('\n').map((l) => l.trim());
  const timing = new Set(
    lines
      .filter((l) => l.startsWith('server '))
      .map((l) => {
        const m = / inter (\S+) fall (\d+) rise (\d+)/.exec(l);
        if (!m) throw new Error(`server line without inter/fall/rise: ${l}`);
        return JSON.stringify({ interMs: ms(m[1]), fall: Number(m[2]), rise: Number(m[3]) });
      }),
  );
  if (timing.size !== 1) throw new Error(`expected one inter/fall/rise on every server line, found ${[...timing].join(' ')}`);
  const timeoutCheck = lines.find((l) => l.startsWith('timeout check '));
  if (!timeoutCheck) throw new Error('the rendered config has no `timeout check`');
  return { ...JSON.parse([...timing][0]), timeoutCheckMs: ms(timeoutCheck.split(/\s+/)[2]) };
}

/** Every address the config binds or connects to (bind and server lines). */
export function addressesOf(configText: string): string[] {
  return configText
    .split('\n')
    .map((l) => l.trim())
    .flatMap((l) => {
      const bind = /^bind (\S+):\d+$/.exec(l);
      if (bind) return [bind[1]];
      const server = /^server \S+ (\S+):\d+ /.exec(l);
      return server ? [server[1]] : [];
    });
}

/** A TCP port free on `host` right now (the OS picks it; HAProxy binds it moments later). */
export async function freePort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves when a TCP connection to host:port succeeds; rejects after `timeoutMs`. */
export async function waitForListener(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
