/**
 * The README's claims, executed where they can be: every YAML example synthesizes to the VM count it
 * states (or is refused with the error it states); the spec table's defaults are the schema's; the
 * stack outputs it lists are exactly the stack's; every `npm run X` it mentions is a script.
 */
import * as fs from 'fs';
import * as path from 'path';
import { isDeepStrictEqual } from 'util';
import * as YAML from 'yaml';
import { ClusterSpecError, ClusterSpecSchema, parseClusterSpec, parseClusterSpecYaml, planCluster } from '../../spec';
import { synthCluster } from '../support/synth';
import { ROOT } from '../support/tools';

const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The ```yaml blocks of a Markdown text. */
function yamlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/**
 * Checks one example against what its first line says: `# name → … = N VMs` (it synthesizes, with
 * N libvirt domains) or `# name → refused: TEXT` (the spec is refused with a problem containing TEXT).
 * Returns what is wrong, or undefined.
 */
function checkYamlExample(block: string): string | undefined {
  const head = block.split('\n')[0];
  const count = /= (\d+) VMs\)?\s*$/.exec(head);
  const refused = /→\s*refused: (.+)$/.exec(head);
  if (!count && !refused) return `its first line must say "= N VMs" or "→ refused: <error>": ${head}`;
  try {
    parseClusterSpecYaml(block, 'README example');
  } catch (e) {
    if (!(e instanceof ClusterSpecError)) throw e;
    if (refused && e.problems.some((p) => p.includes(refused[1].trim()))) return undefined;
    return `refused with ${JSON.stringify(e.problems)}, but its first line says ${head}`;
  }
  if (refused) return `accepted, but its first line says it is refused: ${head}`;
  const { tf } = synthCluster(YAML.parse(block));
  const domains = Object.keys(tf.resource.libvirt_domain ?? {}).length;
  return domains === Number(count![1]) ? undefined : `synthesizes ${domains} VMs, but its first line says ${count![1]}`;
}

describe('the README\'s YAML examples', () => {
  const blocks = yamlBlocks(README);

  test('there are examples of both kinds: a VM count and a refusal', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    expect(blocks.some((b) => / VMs\)?\s*$/.test(b.split('\n')[0]))).toBe(true);
    expect(blocks.some((b) => /refused: /.test(b.split('\n')[0]))).toBe(true);
  });

  test.each(yamlBlocks(README).map((b) => [b.split('\n')[0], b]))('%s', (_head, block) => {
    expect(checkYamlExample(block)).toBeUndefined();
  });

  test('fails when an example states the wrong VM count or the wrong error', () => {
    expect(checkYamlExample('# x.yaml  →  (3 + 10 = 14 VMs)\nworkerPools: [{ name: general, count: 11 }]\n')).toBe('synthesizes 15 VMs, but its first line says 14');
    expect(checkYamlExample('# x.yaml  →  refused: must be at most 9\ncontrolPlane: { count: 3 }\n')).toMatch(/^accepted, but/);
    expect(checkYamlExample('# x.yaml  →  refused: wrong text\ncontrolPlane: { count: 10 }\n')).toMatch(/^refused with .*controlPlane\.count: must be at most 9/);
    expect(checkYamlExample('# x.yaml\n{}\n')).toMatch(/first line must say/);
  });
});

/** The rows of the Markdown table whose header starts with `| key | default |`: [key cell, default cell]. */
function specTableRows(markdown: string): [string, string][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => /^\| key \| default \|/.test(l));
  if (start < 0) throw new Error('README has no "| key | default | rules |" table');
  const rows: [string, string][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
    rows.push([cells[0], cells[1]]);
  }
  return rows;
}

/** The code spans of a cell, e.g. "`a` / `b`" → ["a", "b"]. */
const codeSpans = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

/** Every script a README names as `npm run X`, and the more its table rows name ("`npm run deploy` / `diff`"). */
function mentionedScripts(markdown: string): string[] {
  const mentioned = [...markdown.matchAll(/npm run ([a-z][a-z0-9:-]*)/g)].map((m) => m[1]);
  const rowed = [...markdown.matchAll(/^\| `npm run [^|]+\|/gm)].flatMap((m) => codeSpans(m[0]).map((c) => c.replace(/^npm run /, '')));
  return [...new Set([...mentioned, ...rowed])];
}

/** The scripts a README names that are not in `scripts` (package.json's). */
function unknownScripts(markdown: string, scripts: readonly string[]): string[] {
  return mentionedScripts(markdown).filter((s) => !scripts.includes(s));
}

/** The schema's default of a spec path such as `network.cidr` or `workerPools[]`. */
function schemaDefault(defaults: Record<string, unknown>, key: string): unknown {
  const parts = key.replace(/\[\]$/, '').split('.');
  return parts.reduce<unknown>((o, k) => (o === undefined ? undefined : (o as Record<string, unknown>)[k]), defaults);
}

/**
 * The schema's default of `key` as its row should state it: an object's fields that have rows of
 * their own (`kubernetes.kubelet.…` for `kubernetes`) left out.
 */
function rowDefault(defaults: Record<string, unknown>, key: string, allKeys: readonly string[]): unknown {
  const value = JSON.parse(JSON.stringify(schemaDefault(defaults, key) ?? null)) as unknown;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const own = Object.entries(value as Record<string, unknown>).filter(([field]) => !allKeys.some((k) => k === `${key}.${field}` || k.startsWith(`${key}.${field}.`)));
  return Object.fromEntries(own);
}

/**
 * Expands a key cell: "`libvirt.uri` / `poolPath`" → ["libvirt.uri", "libvirt.poolPath"] (a bare name
 * after the first is a sibling of the first).
 */
function keysOf(cell: string): string[] {
  const spans = codeSpans(cell);
  const parent = spans[0].includes('.') ? spans[0].slice(0, spans[0].lastIndexOf('.') + 1) : '';
  return spans.map((k, i) => (i === 0 || k.includes('.') ? k : parent + k));
}

/** Compares each key's default cell (YAML; `<name>` stands for the default name) with the schema's; what differs. */
function specTableMismatches(markdown: string): string[] {
  const defaults = ClusterSpecSchema.parse({}) as unknown as Record<string, unknown>;
  const problems: string[] = [];
  const rows = specTableRows(markdown);
  const allKeys = rows.flatMap(([k]) => keysOf(k));
  for (const [keyCell, defaultCell] of rows) {
    const keys = keysOf(keyCell);
    // "unset (…)": the schema has no default; the text after it says what the tool then does.
    if (/^unset\b/.test(defaultCell)) {
      for (const key of keys) if (schemaDefault(defaults, key) !== undefined) problems.push(`${key}: the README says unset, the schema's default is ${JSON.stringify(schemaDefault(defaults, key))}`);
      continue;
    }
    const values = codeSpans(defaultCell);
    if (values.length !== keys.length) {
      problems.push(`${keyCell}: ${keys.length} key(s) but ${values.length} default(s) written as code in "${defaultCell}"`);
      continue;
    }
    keys.forEach((key, i) => {
      const written = YAML.parse(values[i].replace(/<name>/g, String(defaults.name)));
      const actual = rowDefault(defaults, key, allKeys);
      if (!isDeepStrictEqual(written, actual)) {
        problems.push(`${key}: the README says ${JSON.stringify(written)}, the schema's default is ${JSON.stringify(actual)}`);
      }
    });
  }
  return problems;
}

describe('the README\'s spec table', () => {
  test('every row\'s default equals the schema\'s default (the embedded default cluster)', () => {
    expect(specTableRows(README).length).toBeGreaterThanOrEqual(10);
    expect(specTableMismatches(README)).toEqual([]);
  });

  test('covers every top-level field of the schema', () => {
    const covered = new Set(specTableRows(README).flatMap(([k]) => keysOf(k)).map((k) => k.split(/[.[]/)[0]));
    expect([...covered].sort()).toEqual(Object.keys(ClusterSpecSchema.parse({})).sort());
  });

  test('fails when a default is stale: an etcd row without its count and sizes, a wrong network default, "unset" for a field that has one', () => {
    const stale = README.replace(/^\| `etcd` \| `[^`]+` \|/m, '| `etcd` | `{topology: stacked}` |')
      .replace('`192.168.150.0/24` / `k8s.lab`', '`192.168.150.0/24` / `k8s.local`')
      .replace(/^\| `ssh.authorizedKeys` \| `\[\]` \|/m, '| `ssh.authorizedKeys` | unset |');
    expect(specTableMismatches(stale)).toEqual([
      'network.domain: the README says "k8s.local", the schema\'s default is "k8s.lab"',
      'ssh.authorizedKeys: the README says unset, the schema\'s default is []',
      'etcd: the README says {"topology":"stacked"}, the schema\'s default is {"topology":"stacked","count":3,"vcpu":2,"memoryMiB":2048,"diskGiB":20}',
    ]);
  });
});

/** The names of the bullets that follow the README's "the stack's outputs" sentence. */
function listedOutputs(markdown: string): string[] {
  const at = markdown.indexOf("the stack's outputs tell you");
  if (at < 0) throw new Error('README no longer lists the stack outputs after "the stack\'s outputs tell you"');
  const names: string[] = [];
  for (const line of markdown.slice(at).split('\n').slice(1)) {
    const m = /^- `([a-z_]+)`/.exec(line);
    if (m) names.push(m[1]);
    else if (!/^ {2}\S/.test(line)) break;
  }
  return names;
}

describe('what the README names exists', () => {
  test('the stack outputs it lists are exactly the synthesized stack\'s outputs', () => {
    const listed = listedOutputs(README);
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.sort()).toEqual(Object.keys(synthCluster().tf.output).sort());
  });

  test('every `npm run X` it mentions is a script of package.json', () => {
    const scripts = Object.keys((JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
    expect(mentionedScripts(README).length).toBeGreaterThan(10);
    expect(unknownScripts(README, scripts)).toEqual([]);
  });

  test('the script check finds a script that package.json lacks, in the text and in a table row', () => {
    // GIVEN a README naming two scripts package.json lacks, one in a sentence and one in a table row
    const readme = 'Run `npm run synth`, then `npm run sinth`.\n\n| `npm run deploy` / `dploy` | what |\n';
    // WHEN it is checked THEN both are reported, and the known ones are not
    expect(unknownScripts(readme, ['synth', 'deploy'])).toEqual(['sinth', 'dploy']);
  });
});

describe('"Before you start": the host sizes it states are the plans\'', () => {
  /** The plan's totals as the README writes them: `21,504 MiB`, `11 vCPUs`, `130 GiB`. */
  const totals = (input: object) => {
    const plan = planCluster(parseClusterSpec(input).spec);
    const sum = (f: (n: (typeof plan.nodes)[number]) => number) => plan.nodes.reduce((a, n) => a + f(n), 0);
    return [`${sum((n) => n.memoryMiB).toLocaleString('en-US')} MiB`, `${sum((n) => n.vcpu)} vCPUs`, `${sum((n) => n.diskGiB)} GiB`];
  };
  const section = README.slice(README.indexOf('## Before you start'), README.indexOf('## The two commands'));

  test('the default cluster', () => {
    for (const figure of totals({})) expect(section).toContain(figure);
  });

  test('the smaller cluster it suggests (one control plane, one worker)', () => {
    const small = /`cluster\.yaml`\s+with one control plane and one worker \(`controlPlane: \{count: 1\}`, `workerPools: \[\{name: general, count:\s+1\}\]`\)\s+needs ([\d,]+ MiB), (\d+ vCPUs) and (\d+ GiB)/.exec(section);
    expect(small).not.toBeNull();
    expect(small!.slice(1)).toEqual(totals({ controlPlane: { count: 1 }, workerPools: [{ name: 'general', count: 1 }] }));
  });
});
