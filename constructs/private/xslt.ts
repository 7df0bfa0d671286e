/**
 * An XSLT 1.0 stylesheet that copies the provider's XML unchanged (the identity template) except where one
 * of `templates` matches; the result has no XML declaration and is indented. `templates` are the
 * stylesheet's own lines, constants of the caller: nothing from a spec is spliced into them.
 */
export function identityTransform(templates: readonly string[]): string {
  return [
    '<?xml version="1.0"?>',
    '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">',
    '  <xsl:output omit-xml-declaration="yes" indent="yes"/>',
    '  <xsl:template match="node()|@*">',
    '    <xsl:copy><xsl:apply-templates select="node()|@*"/></xsl:copy>',
    '  </xsl:template>',
    ...templates,
    '</xsl:stylesheet>',
    '',
  ].join('\n');
}
