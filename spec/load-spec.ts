import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { z } from 'zod';
import { ClusterSpec, ClusterSpecSchema } from './cluster-spec';

/** The environment variable naming a cluster spec file. */
export const CLUSTER_CONFIG_ENV = 'CLUSTER_CONFIG';
/** The spec file used when CLUSTER_CONFIG is unset and it exists at the repository root. */
export const DEFAULT_SPEC_FILE = 'cluster.yaml';

/** A spec that cannot be used; `problems` are one line each, naming the field, the value and what is allowed. */
export class ClusterSpecError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid cluster spec (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ClusterSpecError';
  }
}

/** A validated spec, and what is allowed but risky about it. */
export interface LoadedSpec {
  readonly spec: ClusterSpec;
  /** Where it came from: a file path, or "embedded default". */
  readonly source: string;
  readonly warnings: readonly string[];
}

/** Formats a path the way users write it: `workerPools[0].labels.app`. */
export function formatPath(p: readonly PropertyKey[]): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_]*$/;
  return (
    p
      .map((k, i) => {
        if (typeof k === 'number') return `[${k}]`;
        const key = String(k);
        if (!plain.test(key)) return `[${JSON.stringify(key)}]`;
        return i === 0 ? key : `.${key}`;
      })
      .join('') || '(top level)'
  );
}

/** zod's wrappers (default, optional, pipe) taken off, down to the schema that checks the value. */
function unwrap(s: z.core.$ZodType): z.core.$ZodType {
  const def = s._zod.def as unknown as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
  if (def.innerType) return unwrap(def.innerType);
  if (def.type === 'pipe' && def.in) return unwrap(def.in);
  return s;
}

/** The schema of the value at `p` (walking objects and arrays), unwrapped, or undefined. */
function schemaAt(p: readonly PropertyKey[]): z.core.$ZodType | undefined {
  let schema: z.core.$ZodType | undefined = ClusterSpecSchema;
  for (const key of p) {
    if (!schema) return undefined;
    const def = unwrap(schema)._zod.def as unknown as { shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType };
    schema = typeof key === 'number' ? def.element : def.shape?.[String(key)];
  }
  return schema && unwrap(schema);
}

/** The keys allowed in the object the schema expects at `p`, or undefined if it is not an object. */
function allowedKeysAt(p: readonly PropertyKey[]): string[] | undefined {
  const schema = schemaAt(p);
  if (!schema) return undefined;
  const def = schema._zod.def as unknown as { shape?: Record<string, unknown>; type: string; keyType?: z.core.$ZodType };
  if (def.shape) return Object.keys(def.shape);
  // A record whose keys are an enum (kubelet.evictionHard): its allowed keys are the enum's values.
  const keyDef = def.type === 'record' && def.keyType ? (def.keyType._zod.def as unknown as { entries?: Record<string, string> }) : undefined;
  return keyDef?.entries ? Object.values(keyDef.entries) : undefined;
}

/**
 * The bounds a number schema checks (wrappers taken off): its least and greatest value, and whether it takes whole
 * numbers only; undefined for a schema that is not a number's. The spec's messages and its property tests read them.
 */
export function numberBounds(schema: z.core.$ZodType): { readonly min?: number; readonly max?: number; readonly whole: boolean } | undefined {
  const def = unwrap(schema)._zod.def as unknown as { type: string; format?: string; checks?: { _zod: { def: { check: string; value?: number; inclusive?: boolean; format?: string } } }[] };
  if (def.type !== 'number') return undefined;
  let min: number | undefined;
  let max: number | undefined;
  // z.int() is a number schema whose own format is an integer one
  let whole = /int/.test(def.format ?? '');
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    if (d.check === 'greater_than' && d.value !== undefined) min = d.inclusive ? d.value : d.value + 1;
    if (d.check === 'less_than' && d.value !== undefined) max = d.inclusive ? d.value : d.value - 1;
    if (d.check === 'number_format' && /int/.test(d.format ?? '')) whole = true;
  }
  return { min, max, whole };
}

/** What the number at `p` may be, read from its schema's checks: "a whole number from 1 to 9"; undefined if not a number. */
function numberRuleAt(p: readonly PropertyKey[]): string | undefined {
  const schema = schemaAt(p);
  const bounds = schema && numberBounds(schema);
  if (!bounds) return undefined;
  const { min, max } = bounds;
  const what = bounds.whole ? 'a whole number' : 'a number';
  if (min !== undefined && max !== undefined && Math.abs(max) < Number.MAX_SAFE_INTEGER) return `${what} from ${min} to ${max}`;
  if (min !== undefined && Math.abs(min) < Number.MAX_SAFE_INTEGER) return `${what} of at least ${min}`;
  return what;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  // JSON has no Infinity or NaN (it would print null): YAML's .inf, or 1e400, read as Infinity.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const json = JSON.stringify(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

/** The expected types zod names in an invalid_type issue that are not numbers, in words. */
const TYPE_WORDS: Readonly<Record<string, string>> = { string: 'a string', object: 'a mapping (key: value)', array: 'a list', boolean: 'true or false' };

/**
 * What a value of the wrong type at `p` must be, instead of zod's "Invalid input: expected string, received
 * number": a missing value is required; a YAML number or true/false where text is wanted must be quoted, and
 * when even the quoted text would be refused, why. Undefined for types it has no words for (numbers).
 */
function typeRuleOf(p: readonly PropertyKey[], expected: string, input: unknown): string | undefined {
  const words = TYPE_WORDS[expected];
  if (words === undefined) return undefined;
  if (input === undefined) return `is required: ${words}`;
  if (expected !== 'string' || (typeof input !== 'number' && typeof input !== 'boolean')) return `must be ${words}`;
  const quoted = JSON.stringify(String(input));
  const quote = `must be ${words}; YAML reads ${String(input)} as a ${typeof input === 'number' ? 'number' : 'boolean'}, so quote it: ${quoted}`;
  const schema = schemaAt(p);
  const asText = schema === undefined ? undefined : z.safeParse(schema, String(input));
  if (asText === undefined || asText.success) return quote;
  return `${quote}, though ${quoted} would be refused too: ${asText.error.issues[0].message}`;
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const where = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => formatPath([...issue.path, k]));
    const allowed = allowedKeysAt(issue.path) ?? [];
    return `${keys.join(', ')}: unknown key${keys.length > 1 ? 's' : ''} (typo?); allowed at ${formatPath(issue.path)}: ${allowed.join(', ')}`;
  }
  if (issue.code === 'invalid_key') {
    // A record key failed its own check: report that check's message for the key itself.
    const inner = issue.issues[0];
    return `${formatPath(issue.path)}: key ${inner?.message ?? issue.message} (got ${describe(issue.input)})`;
  }
  const typeRule = issue.code === 'invalid_type' && issue.message.startsWith('Invalid input') ? typeRuleOf(issue.path, String(issue.expected), issue.input) : undefined;
  if (typeRule !== undefined) return `${where}: ${typeRule} (got ${describe(issue.input)})`;
  // A number of the wrong kind (a string, a fraction) that has no message of its own: say what it may be, not
  // zod's "Invalid input: expected int, received number".
  const generic = issue.code === 'invalid_type' && /^(int|number)$/.test(String(issue.expected)) && issue.message.startsWith('Invalid input');
  const rule = generic ? numberRuleAt(issue.path) : undefined;
  if (rule !== undefined) return `${where}: must be ${rule} (got ${describe(issue.input)})`;
  return `${where}: ${issue.message} (got ${describe(issue.input)})`;
}

/**
 * Validates a parsed spec document (`{}` is the default cluster).
 * @throws ClusterSpecError listing every problem.
 */
export function parseClusterSpec(doc: unknown, source = 'embedded default'): LoadedSpec {
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ClusterSpecError(source, [`(top level): must be a mapping of spec fields (got ${describe(doc)})`]);
  }
  const structural = structuralProblems(doc);
  if (structural.length > 0) throw new ClusterSpecError(source, structural);
  const result = ClusterSpecSchema.safeParse(doc, { reportInput: true });
  if (!result.success) throw new ClusterSpecError(source, result.error.issues.map(formatIssue));
  return { spec: result.data, source, warnings: specWarnings(result.data) };
}

/**
 * What the schema cannot be asked about: a value that contains itself (a YAML alias to its own
 * ancestor, which would make the checks recurse forever), and the key `__proto__`, which a
 * JavaScript object cannot hold as data (it would vanish silently). One line each, with its path.
 */
function structuralProblems(doc: unknown): string[] {
  const problems: string[] = [];
  const walk = (value: unknown, at: PropertyKey[], ancestors: Set<object>) => {
    if (typeof value !== 'object' || value === null) return;
    if (ancestors.has(value)) {
      problems.push(`${formatPath(at)}: must not contain itself (a YAML alias to an enclosing node, e.g. "a: &x [*x]")`);
      return;
    }
    ancestors.add(value);
    for (const key of Object.keys(value)) {
      if (key === '__proto__') problems.push(`${formatPath([...at, key])}: is not allowed as a key`);
      walk((value as Record<string, unknown>)[key], [...at, Array.isArray(value) && /^\d+$/.test(key) ? Number(key) : key], ancestors);
    }
    ancestors.delete(value);
  };
  walk(doc, [], new Set());
  return problems;
}

/** What a valid spec allows but is risky: one line each. */
export function specWarnings(spec: ClusterSpec): string[] {
  const warnings: string[] = [];
  const n = spec.controlPlane.count;
  if (n === 1) {
    warnings.push('controlPlane.count is 1: no high availability; losing that node loses the cluster (etcd has a single member)');
  } else if (n % 2 === 0) {
    warnings.push(`controlPlane.count is ${n}: etcd's quorum is ${n / 2 + 1}, so it survives no more failures than ${n - 1} node(s) would; use an odd count`);
  }
  if (spec.etcd.topology === 'external' && spec.etcd.count % 2 === 0) {
    warnings.push(`etcd.count is ${spec.etcd.count}: quorum is ${spec.etcd.count / 2 + 1}, so it survives no more failures than ${spec.etcd.count - 1} member(s) would; use an odd count`);
  }
  if (spec.ssh.authorizedKeys.length === 0) {
    warnings.push('ssh.authorizedKeys is empty: no one can log in to the nodes (the cluster still bootstraps itself)');
  }
  return warnings;
}

/**
 * For a command's entry point: the spec as loadClusterSpec finds it; when it is invalid, every
 * problem on stderr and exit with `exitCode`, before the command has written anything.
 */
export function loadClusterSpecOrExit(exitCode = 1): LoadedSpec {
  try {
    return loadClusterSpec();
  } catch (e) {
    if (!(e instanceof ClusterSpecError)) throw e;
    process.stderr.write(`${e.message}\n`);
    process.exit(exitCode);
  }
}

/** Parses YAML text into a spec. */
export function parseClusterSpecYaml(text: string, source: string): LoadedSpec {
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ClusterSpecError(source, doc.errors.map((e) => `YAML syntax: ${e.message.split('\n')[0]}`));
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (e) {
    // The yaml library refuses, e.g., an alias expanded so often it would exhaust memory.
    throw new ClusterSpecError(source, [`YAML: ${(e as Error).message.split('\n')[0]}`]);
  }
  return parseClusterSpec(value, source);
}

/**
 * Loads the spec the way `cdktf synth`, `cdk8s synth` and `npm run render` do:
 * the file named by CLUSTER_CONFIG, else `cluster.yaml` in `rootDir` if present, else the default.
 */
export function loadClusterSpec(env: NodeJS.ProcessEnv = process.env, rootDir = process.cwd()): LoadedSpec {
  const fromEnv = env[CLUSTER_CONFIG_ENV];
  let file: string | undefined;
  if (fromEnv !== undefined && fromEnv !== '') {
    file = path.resolve(rootDir, fromEnv);
    if (!fs.existsSync(file)) {
      throw new ClusterSpecError(file, [`${CLUSTER_CONFIG_ENV}: the file does not exist (got ${JSON.stringify(fromEnv)})`]);
    }
  } else if (fs.lstatSync(path.join(rootDir, DEFAULT_SPEC_FILE), { throwIfNoEntry: false }) !== undefined) {
    // Present, even as a link to nothing: a broken link is an error, never a silent fall back to the default cluster.
    file = path.join(rootDir, DEFAULT_SPEC_FILE);
  }
  if (file === undefined) return parseClusterSpec({});
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    // A directory, or a file this user may not read: say so, not with a stack trace.
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ClusterSpecError(file, [`${fromEnv ? CLUSTER_CONFIG_ENV : DEFAULT_SPEC_FILE}: cannot read the file (${code}); it must be a readable YAML file (got ${JSON.stringify(fromEnv || file)})`]);
  }
  return parseClusterSpecYaml(text, file);
}
