import { identityTransform } from './xslt';

/** The mode every node volume (root disk and NoCloud seed) is created with in the pool: owner only. */
export const PRIVATE_VOLUME_MODE = '0600';

/**
 * What the provider v0.8 cannot say in its schema, applied to the volume XML it generates: the file's
 * mode in the pool. The provider asks libvirt for 0644, so on a shared host every user could read a node's
 * seed (its user-data holds the bootstrap token and, on the first control plane, the cluster's CA keys)
 * and, once the node has booted, its root disk. {@link PRIVATE_VOLUME_MODE} replaces it; QEMU still opens
 * them, because libvirt hands each disk to the QEMU user while its domain runs.
 * A constant: nothing is spliced into it.
 */
export const PRIVATE_VOLUME_XSLT = identityTransform([
  '  <xsl:template match="/volume/target/permissions/mode">',
  `    <mode>${PRIVATE_VOLUME_MODE}</mode>`,
  '  </xsl:template>',
  '  <xsl:template match="/volume/target[not(permissions)]">',
  '    <xsl:copy>',
  '      <xsl:apply-templates select="node()|@*"/>',
  `      <permissions><mode>${PRIVATE_VOLUME_MODE}</mode></permissions>`,
  '    </xsl:copy>',
  '  </xsl:template>',
]);
