/**
 * libvirt connection URIs, as libvirt documents them (https://libvirt.org/uri.html and each
 * driver's page): `driver[+transport]://[user@][host][:port]/path[?params]`.
 */

/**
 * The hypervisor drivers libvirt documents a connection URI for (`qemu:///system`, `xen:///system`,
 * `lxc:///system`, `vbox:///session`, `vmwareplayer:///session`, `vmwarews:///session`,
 * `vmwarefusion:///session`, `esx://host/`, `gsx://host/`, `vpx://vcenter/dc/host`,
 * `openvz:///system`, `bhyve:///system`, `hyperv://host/`, `vz:///system`, `ch:///system`,
 * `test:///default`). The storage/network-only drivers of the modular daemons (`network:///system`, …)
 * are left out: a cluster needs a driver that runs domains.
 */
export const LIBVIRT_DRIVERS = [
  'qemu',
  'xen',
  'lxc',
  'vbox',
  'vmwareplayer',
  'vmwarews',
  'vmwarefusion',
  'esx',
  'gsx',
  'vpx',
  'openvz',
  'bhyve',
  'hyperv',
  'vz',
  'ch',
  'test',
] as const;

/** The transports of libvirt's remote driver (https://libvirt.org/remote.html#transports). */
export const LIBVIRT_TRANSPORTS = ['unix', 'ssh', 'libssh', 'libssh2', 'tcp', 'tls', 'ext'] as const;

/** A libvirt connection URI, taken apart. */
export interface LibvirtUri {
  readonly driver: (typeof LIBVIRT_DRIVERS)[number];
  readonly transport?: (typeof LIBVIRT_TRANSPORTS)[number];
  readonly user?: string;
  /** The host, without brackets for IPv6; undefined for the local host (`qemu:///system`). */
  readonly host?: string;
  readonly port?: number;
  /** From the first `/` on, e.g. `/system`. */
  readonly path: string;
  /** After `?`, undecoded; undefined when there is none. */
  readonly query?: string;
}

/** What a libvirt URI is, for error messages. */
export const LIBVIRT_URI_RULE =
  `a libvirt URI driver[+transport]://[user@][host][:port]/path[?params] with driver one of ${LIBVIRT_DRIVERS.join(', ')} ` +
  `and transport one of ${LIBVIRT_TRANSPORTS.join(', ')}, e.g. qemu:///system or qemu+ssh://user@host/system`;

const URI =
  /^([a-z][a-z0-9]*)(?:\+([a-z0-9]+))?:\/\/(?:([A-Za-z0-9._~%!$&'()*+,;=-]+)@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)?(?::([0-9]{1,5}))?(\/[\x21-\x22\x24-\x3e\x40-\x7e]*)(?:\?([\x21-\x22\x24-\x7e]*))?$/;

/** Parses a libvirt connection URI; undefined when `uri` is not one (see LIBVIRT_URI_RULE). */
export function parseLibvirtUri(uri: string): LibvirtUri | undefined {
  const m = URI.exec(uri);
  if (!m) return undefined;
  const [, driver, transport, user, rawHost, rawPort, path, query] = m;
  if (!(LIBVIRT_DRIVERS as readonly string[]).includes(driver)) return undefined;
  if (transport !== undefined && !(LIBVIRT_TRANSPORTS as readonly string[]).includes(transport)) return undefined;
  // A user or a port names an account or a service on some host: without the host they mean nothing.
  if ((user !== undefined || rawPort !== undefined) && rawHost === undefined) return undefined;
  const port = rawPort === undefined ? undefined : Number(rawPort);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  const host = rawHost?.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  return {
    driver: driver as LibvirtUri['driver'],
    transport: transport as LibvirtUri['transport'],
    user,
    host,
    port,
    path,
    query,
  };
}

/**
 * Is the URI's libvirt on this machine? True when it names no host (`qemu:///system`,
 * `qemu+unix:///system`); then host facts libvirt does not report (routes, free space of a path)
 * can be read here.
 */
export function isLocalLibvirtUri(uri: LibvirtUri): boolean {
  return uri.host === undefined && (uri.transport === undefined || uri.transport === 'unix');
}
