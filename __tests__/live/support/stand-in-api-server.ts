import * as https from 'https';
import * as net from 'net';
import { ThrowawayCert } from './throwaway-cert';

/** The path a stand-in answers with its own name, so a client sees which backend served it. */
export const WHOAMI_PATH = '/whoami';

/**
 * A stand-in for kube-apiserver: TLS on a loopback address, `GET /healthz` -> 200 `ok`,
 * `GET /whoami` -> its name, anything else -> 404. It can be stopped and started again on the
 * same address and port.
 */
export class StandInApiServer {
  private server: https.Server | undefined;
  private boundPort = 0;
  /** Every raw TCP connection, TLS handshakes in progress included, so stop() can drop them all. */
  private readonly sockets = new Set<net.Socket>();

  constructor(
    /** The name it answers /whoami with (a control plane's hostname). */
    readonly name: string,
    /** A loopback address: 127.0.0.x only. */
    readonly host: string,
    private readonly cert: ThrowawayCert,
  ) {
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) throw new Error(`stand-in API servers listen on loopback only, got host ${host}`);
  }

  /** The port it listens on (chosen by the OS on the first start, reused after). */
  get port(): number {
    if (this.boundPort === 0) throw new Error(`${this.name} has not been started`);
    return this.boundPort;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = https.createServer({ cert: this.cert.certPem, key: this.cert.keyPem }, (req, res) => {
      res.setHeader('Connection', 'close');
      if (req.method === 'GET' && req.url === '/healthz') {
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      } else if (req.method === 'GET' && req.url === WHOAMI_PATH) {
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end(this.name);
      } else {
        res.writeHead(404).end();
      }
    });
    server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Stops listening and drops every open connection, like a crashed API server: new connections are refused. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}
