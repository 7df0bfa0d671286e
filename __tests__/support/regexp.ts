/** `text` with every character a RegExp gives meaning to escaped, to match it literally inside a pattern. */
export function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
