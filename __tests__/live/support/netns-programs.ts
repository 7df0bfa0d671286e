/**
 * Small Node programs the VIP failover test runs *inside* network namespaces (`ip netns exec NS
 * node -e PROGRAM ARGS...`): code in the test process itself would live in the host's namespace.
 * Each is plain JavaScript so it needs no compiler; each bounds its own lifetime.
 */

/**
 * Stand-in API servers, one per `name=ip` argument, TLS on ip:6443 with the given certificate:
 * `GET /healthz` → 200 `ok`; `GET /whoami` → `<name> via <client address>` (the client address is
 * the load balancer HAProxy connected from, so a request through the VIP shows which LB carried it).
 * Args: CERT_FILE KEY_FILE LIFETIME_MS name=ip...
 */
export const STAND_IN_API_SERVERS_JS = `
const https = require('https');
const fs = require('fs');
const [certFile, keyFile, lifetimeMs, ...pairs] = process.argv.slice(1);
const tls = { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) };
for (const pair of pairs) {
  const [name, ip] = pair.split('=');
  https.createServer(tls, (req, res) => {
    res.setHeader('Connection', 'close');
    if (req.method === 'GET' && req.url === '/healthz') res.end('ok');
    else if (req.method === 'GET' && req.url === '/whoami') res.end(name + ' via ' + req.socket.remoteAddress.replace(/^::ffff:/, ''));
    else { res.writeHead(404); res.end(); }
  }).listen(6443, ip, () => console.log('listening ' + name + ' ' + ip + ':6443'));
}
setTimeout(() => process.exit(0), Number(lifetimeMs));
`;

/**
 * A fixed-rate HTTPS client: every EVERY_MS a fresh connection GETs https://HOST:PORT/whoami,
 * verifying the server against CA_FILE, each request given TIMEOUT_MS. One JSON line per request:
 * {"s": started, "e": ended, "body": answer} or {"s", "e", "err": reason}. Exits after LIFETIME_MS.
 * Args: HOST PORT CA_FILE EVERY_MS TIMEOUT_MS LIFETIME_MS
 */
export const PROBE_LOOP_JS = `
const https = require('https');
const fs = require('fs');
const [host, port, caFile, everyMs, timeoutMs, lifetimeMs] = process.argv.slice(1);
const ca = fs.readFileSync(caFile);
const end = Date.now() + Number(lifetimeMs);
const timer = setInterval(() => {
  if (Date.now() > end) { clearInterval(timer); setTimeout(() => process.exit(0), Number(timeoutMs) + 100); return; }
  const s = Date.now();
  let done = false;
  const finish = (r) => { if (done) return; done = true; clearTimeout(deadline); console.log(JSON.stringify({ s, e: Date.now(), ...r })); };
  const req = https.get({ host, port: Number(port), path: '/whoami', ca, agent: false }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c) => (body += c));
    res.on('end', () => (res.statusCode === 200 ? finish({ body }) : finish({ err: 'HTTP ' + res.statusCode })));
    res.on('error', (e) => finish({ err: e.code || e.message }));
  });
  const deadline = setTimeout(() => { finish({ err: 'timeout' }); req.destroy(); }, Number(timeoutMs));
  req.on('error', (e) => finish({ err: e.code || e.message }));
}, Number(everyMs));
`;

/** One request of the probe loop, parsed. */
export interface Probe {
  readonly s: number;
  readonly e: number;
  readonly body?: string;
  readonly err?: string;
}

/** The probe lines a process wrote so far. */
export function probesOf(lines: readonly { text: string }[]): Probe[] {
  return lines.filter((l) => l.text.startsWith('{')).map((l) => JSON.parse(l.text) as Probe);
}
