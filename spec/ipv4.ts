import * as ipaddr from 'ipaddr.js';

/** An IPv4 network parsed from CIDR notation, with the arithmetic the address plan needs. */
export interface Ipv4Network {
  /** The CIDR as given, e.g. `192.168.150.0/24`. */
  readonly cidr: string;
  /** The network address as a 32-bit unsigned integer. */
  readonly base: number;
  /** The prefix length. */
  readonly prefixLength: number;
  /** How many addresses the network spans, network and broadcast included. */
  readonly size: number;
}

/**
 * Parses an IPv4 CIDR whose address is the network address (no host bits set).
 * Returns undefined when `cidr` is not one.
 */
export function parseIpv4Network(cidr: string): Ipv4Network | undefined {
  if (!ipaddr.IPv4.isValidCIDR(cidr)) return undefined;
  const [address, prefixLength] = ipaddr.IPv4.parseCIDR(cidr);
  const network = ipaddr.IPv4.networkAddressFromCIDR(cidr);
  if (network.toString() !== address.toString()) return undefined;
  return { cidr, base: toInt(network), prefixLength, size: 2 ** (32 - prefixLength) };
}

/** Is `ip` a dotted-quad IPv4 address? */
export function isIpv4(ip: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(ip);
}

/** Do two networks share any address? */
export function overlaps(a: Ipv4Network, b: Ipv4Network): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

/** The address `offset` places after the network address (offset 1 is the first host). */
export function addressAt(network: Ipv4Network, offset: number): string {
  if (offset < 0 || offset >= network.size) {
    throw new Error(`offset ${offset} is outside ${network.cidr} (0..${network.size - 1})`);
  }
  return fromInt(network.base + offset);
}

/** The offset of `ip` inside `network`, or undefined when it is not inside. */
export function offsetOf(network: Ipv4Network, ip: string): number | undefined {
  if (!isIpv4(ip)) return undefined;
  const offset = toInt(ipaddr.IPv4.parse(ip)) - network.base;
  return offset >= 0 && offset < network.size ? offset : undefined;
}

function toInt(ip: ipaddr.IPv4): number {
  return ip.toByteArray().reduce((acc, byte) => acc * 256 + byte, 0);
}

function fromInt(n: number): string {
  return ipaddr.fromByteArray([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]).toString();
}
