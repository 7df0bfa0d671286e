import { identityTransform } from './xslt';

/**
 * The directory where each domain's serial console is logged, as `<domain name>-console.log`:
 * libvirt's own log directory for QEMU guests (virtlogd writes and rotates the file).
 */
export const CONSOLE_LOG_DIR = '/var/log/libvirt/qemu';

/** The file the serial console of the domain `name` is logged to (see {@link DOMAIN_XSLT}). */
export function consoleLogPath(name: string): string {
  return `${CONSOLE_LOG_DIR}/${name}-console.log`;
}

/**
 * What the provider v0.8 cannot say in its schema, applied to the domain XML it generates:
 * - no display: it gives every domain a SPICE display unless a `graphics` block says otherwise, and has
 *   no way to say "none", so the display and video devices are removed, leaving the serial console as
 *   the only way to watch a node boot;
 * - the serial console is also logged to a file on the host, {@link consoleLogPath} of the domain's own
 *   name, rewritten at each start (`virsh console` still works: the console stays a pty).
 * A constant: nothing is spliced into it (the path is built by the XSLT from `/domain/name`).
 */
export const DOMAIN_XSLT = identityTransform([
  '  <xsl:template match="/domain/devices/graphics"/>',
  '  <xsl:template match="/domain/devices/video"/>',
  '  <xsl:template match="/domain/devices/console[not(log)]">',
  '    <xsl:copy>',
  '      <xsl:apply-templates select="node()|@*"/>',
  `      <log file="${CONSOLE_LOG_DIR}/{/domain/name}-console.log" append="off"/>`,
  '    </xsl:copy>',
  '  </xsl:template>',
]);
