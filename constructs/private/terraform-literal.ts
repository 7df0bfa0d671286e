/**
 * A string Terraform must take verbatim. Strings in Terraform JSON are templates: `${...}` is
 * interpolation and `%{...}` a directive, and both are everywhere in shell. Terraform's own
 * escapes, `$${` and `%%{`, stand for them literally. (cdktf's Fn.rawString escapes for use
 * inside an expression, not for a whole attribute value, and leaves `%{` alone.)
 */
export function terraformLiteral(text: string): string {
  // (Replacer functions: in a replacement string, "$$" would itself mean one "$".)
  return text.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{');
}
