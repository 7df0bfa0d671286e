import { isDns1123Subdomain, isIpv4 } from '../../spec';

/**
 * Checks of the haproxy.cfg renderer's input. Each returns the problems it found, one line each,
 * naming the field, the value received and what is allowed (empty when the value is fine).
 */

/** What HAProxy accepts in a proxy or server name (its `invalid_char()`): letters, digits, '-', '_', '.', ':'. */
const HAPROXY_NAME = /^[A-Za-z0-9._:-]+$/;

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

/** A TCP port: an integer 1..65535. */
export function checkPort(field: string, value: number): string[] {
  return Number.isInteger(value) && value >= 1 && value <= 65535 ? [] : [`${field} must be an integer port from 1 to 65535, got ${show(value)}`];
}

/** An address HAProxy can connect to or bind: a dotted-quad IPv4 address or a DNS hostname (`*` too when `allowAny`). */
export function checkAddress(field: string, value: string, allowAny: boolean): string[] {
  if (typeof value === 'string' && (isIpv4(value) || isHostname(value) || (allowAny && value === '*'))) return [];
  const allowed = `an IPv4 address (e.g. 192.168.150.11) or a DNS hostname${allowAny ? ", or '*' for every address of the node" : ''}`;
  return [`${field} must be ${allowed}, got ${show(value)}`];
}

/** A DNS hostname; an all-numeric last label is not one (RFC 3696 2), so `10.0.0.256` is rejected, not looked up. */
function isHostname(value: string): boolean {
  return isDns1123Subdomain(value) && !/^[0-9]+$/.test(value.slice(value.lastIndexOf('.') + 1));
}

/** A server name: HAProxy's name characters, and at most 63 of them (the hostnames it carries are DNS labels). */
export function checkServerName(field: string, value: string): string[] {
  if (typeof value === 'string' && value.length <= 63 && HAPROXY_NAME.test(value)) return [];
  return [`${field} must be 1 to 63 characters of letters, digits, '-', '_', '.' and ':', got ${show(value)}`];
}

/** A whole number within [min, max]. */
export function checkInt(field: string, value: number, min: number, max: number, unit = ''): string[] {
  if (Number.isInteger(value) && value >= min && value <= max) return [];
  return [`${field} must be an integer from ${min} to ${max}${unit}, got ${show(value)}`];
}

/** A duration in HAProxy's notation: whole seconds as `5s`, anything else as `1500ms`. */
export function haproxyDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
