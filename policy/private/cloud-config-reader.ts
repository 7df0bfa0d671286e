import * as YAML from 'yaml';

/** A `write_files` entry as read back from user-data; fields are unchecked. */
export interface WrittenFile {
  readonly path: string;
  readonly content: string;
  readonly permissions: unknown;
  readonly owner: unknown;
}

/** A user-data document read back for checking: the raw mapping, or why it could not be read. */
export type ReadCloudConfig = { readonly config: Record<string, unknown>; readonly error?: undefined } | { readonly config?: undefined; readonly error: string };

/** Parses a `#cloud-config` user-data text; never throws. */
export function readCloudConfig(text: string | undefined): ReadCloudConfig {
  if (text === undefined) return { error: 'user-data is missing' };
  if (!text.startsWith('#cloud-config\n')) return { error: 'user-data does not start with #cloud-config' };
  try {
    const doc: unknown = YAML.parse(text);
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return { error: 'user-data is not a YAML mapping' };
    return { config: doc as Record<string, unknown> };
  } catch (e) {
    return { error: `user-data is not valid YAML (${(e as Error).message.split('\n')[0]})` };
  }
}

/** The `write_files` entries that have a string path and content. */
export function writtenFiles(config: Record<string, unknown>): WrittenFile[] {
  const entries = Array.isArray(config.write_files) ? (config.write_files as unknown[]) : [];
  return entries.flatMap((e) => {
    if (e === null || typeof e !== 'object') return [];
    const f = e as Record<string, unknown>;
    return typeof f.path === 'string' && typeof f.content === 'string' ? [{ path: f.path, content: f.content, permissions: f.permissions, owner: f.owner }] : [];
  });
}

/** Every piece of shell the user-data runs: write_files entries with a shebang, and runcmd as one script. */
export function shellScripts(config: Record<string, unknown>): { name: string; text: string }[] {
  const scripts = writtenFiles(config)
    .filter((f) => f.content.startsWith('#!'))
    .map((f) => ({ name: f.path, text: f.content }));
  const runcmd = Array.isArray(config.runcmd) ? (config.runcmd as unknown[]) : [];
  const lines = runcmd.map((c) => (Array.isArray(c) ? c.map(String).join(' ') : String(c)));
  if (lines.length > 0) scripts.push({ name: 'runcmd', text: lines.join('\n') + '\n' });
  return scripts;
}
