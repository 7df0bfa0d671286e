/** One simple command found in a script, with its words unquoted and simple variables expanded. */
export interface ShellCommand {
  /** The command name, e.g. `install`. */
  readonly name: string;
  /** Its arguments. */
  readonly args: readonly string[];
  /** 1-based line number in the script. */
  readonly line: number;
}

/** Words that may precede a command on a line (`if install …; then`). */
const LEADING_KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', 'sudo', '{', '(']);

/**
 * The simple commands named `names` in a bash script: a reader's approximation, not a shell
 * parser. Variables assigned a literal (`readonly live=/etc/x`, `key="/etc/y"`) are expanded in
 * the arguments so `install -m 0644 "${live}" …` is seen with its path.
 */
export function shellCommands(script: string, names: readonly string[]): ShellCommand[] {
  const lines = script.split('\n');
  const vars = new Map<string, string>();
  for (const line of lines) {
    const a = /^\s*(?:readonly\s+|local\s+|export\s+)?([A-Za-z_][A-Za-z0-9_]*)=('[^']*'|"[^"$`]*"|[^\s$`'"]+)\s*$/.exec(line);
    if (a) vars.set(a[1], unquote(a[2]));
  }
  const expand = (word: string) => word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (all, x, y) => vars.get(x ?? y) ?? all);

  const found: ShellCommand[] = [];
  lines.forEach((text, i) => {
    if (/^\s*#/.test(text)) return;
    for (const segment of text.split(/&&|\|\||;|\|/)) {
      const words = (segment.match(/'[^']*'|"[^"]*"|[^\s'"]+/g) ?? []).map((w) => expand(unquote(w)));
      while (words.length > 0 && LEADING_KEYWORDS.has(words[0])) words.shift();
      if (words.length > 0 && names.includes(words[0])) found.push({ name: words[0], args: words.slice(1), line: i + 1 });
    }
  });
  return found;
}

function unquote(word: string): string {
  return /^'.*'$|^".*"$/.test(word) ? word.slice(1, -1) : word;
}
