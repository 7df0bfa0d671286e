/**
 * The provider v0.8 gives every domain a SPICE display unless a `graphics` block says otherwise,
 * and has no way to say "none". This XSLT removes the display and video devices from the domain
 * XML it generates, leaving the serial console as the only way to watch a node boot.
 * A constant: nothing is spliced into it.
 */
export const NO_GRAPHICS_XSLT = [
  '<?xml version="1.0"?>',
  '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">',
  '  <xsl:output omit-xml-declaration="yes" indent="yes"/>',
  '  <xsl:template match="node()|@*">',
  '    <xsl:copy><xsl:apply-templates select="node()|@*"/></xsl:copy>',
  '  </xsl:template>',
  '  <xsl:template match="/domain/devices/graphics"/>',
  '  <xsl:template match="/domain/devices/video"/>',
  '</xsl:stylesheet>',
  '',
].join('\n');
