/**
 * fast-check arbitraries for the cluster spec: valid documents, and mutations of them derived from
 * the schema itself (spec/cluster-spec.ts), so a field added to the schema is mutated too without a
 * change here. Plus the invariants every accepted spec's plan must hold.
 */
import * as fc from 'fast-check';
import * as YAML from 'yaml';
import { z } from 'zod';
import {
  ADDRESS_PLAN,
  ClusterSpecError,
  ClusterSpecInput,
  LIBVIRT_DRIVERS,
  LIBVIRT_TRANSPORTS,
  LoadedSpec,
  MAX_CONTROL_PLANE_NODES,
  MAX_ETCD_NODES,
  ClusterSpecSchema,
  isDns1123Label,
  macForIp,
  numberBounds,
  offsetOf,
  overlaps,
  parseIpv4Network,
  parseLibvirtUri,
  planCluster,
} from '../../../../spec';

// ---------------------------------------------------------------------------------------------
// The schema, walked

/** What kind of value the schema wants at a path. */
export type FieldKind = 'number' | 'string' | 'enum' | 'boolean' | 'object' | 'array' | 'record' | 'other';

/** One place in a spec document the schema knows, with what it allows there. */
export interface SchemaField {
  /** Array elements appear as index 0, record entries as the key `app`. */
  readonly path: readonly (string | number)[];
  readonly kind: FieldKind;
  /** Inclusive bounds of a number, when the schema has them. */
  readonly min?: number;
  readonly max?: number;
  readonly integer?: boolean;
  /** An enum's values. */
  readonly options?: readonly string[];
}

type Def = { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType; valueType?: z.core.$ZodType; entries?: Record<string, string> };

function defOf(schema: z.core.$ZodType): Def {
  let def = schema._zod.def as unknown as Def;
  // Wrappers that do not change what a document may hold at this place.
  while (def.innerType || (def.type === 'pipe' && def.in)) def = (def.innerType ?? def.in)!._zod.def as unknown as Def;
  return def;
}

/** Every place in a spec document the schema describes, containers included (in document order). */
export function schemaFields(schema: z.core.$ZodType = ClusterSpecSchema, at: (string | number)[] = []): SchemaField[] {
  const def = defOf(schema);
  switch (def.type) {
    case 'object':
      return [{ path: at, kind: 'object' }, ...Object.entries(def.shape ?? {}).flatMap(([k, s]) => schemaFields(s, [...at, k]))];
    case 'array':
      return [{ path: at, kind: 'array' }, ...schemaFields(def.element!, [...at, 0])];
    case 'record':
      return [{ path: at, kind: 'record' }, ...schemaFields(def.valueType!, [...at, 'app'])];
    case 'number': {
      const { min, max, whole } = numberBounds(schema)!;
      return [{ path: at, kind: 'number', min, max, integer: whole }];
    }
    case 'string':
      return [{ path: at, kind: 'string' }];
    case 'enum':
      return [{ path: at, kind: 'enum', options: Object.values(def.entries ?? {}) }];
    case 'boolean':
      return [{ path: at, kind: 'boolean' }];
    default:
      return [{ path: at, kind: 'other' }];
  }
}

// ---------------------------------------------------------------------------------------------
// Valid documents

/** Node networks with a virtual IP the address plan keeps free in each. */
const NETWORKS = [
  { cidr: '192.168.150.0/24', vip: '192.168.150.2' },
  { cidr: '10.213.9.0/24', vip: '10.213.9.4' },
  { cidr: '172.16.0.0/16', vip: '172.16.0.3' },
  { cidr: '192.168.0.0/23', vip: '192.168.0.2' },
] as const;

/** Spec documents the loader must accept: the default, and clusters of every topology and size. */
export const validSpecDoc: fc.Arbitrary<ClusterSpecInput> = fc
  .record({
    name: fc.constantFrom('k8s-lab', 'a', 'lab-2', 'x'.repeat(30)),
    net: fc.constantFrom(...NETWORKS),
    controlPlane: fc.record({ count: fc.integer({ min: 1, max: MAX_CONTROL_PLANE_NODES }), vcpu: fc.integer({ min: 2, max: 64 }), memoryMiB: fc.integer({ min: 1700, max: 262144 }), diskGiB: fc.integer({ min: 5, max: 2048 }) }, { requiredKeys: [] }),
    pools: fc.uniqueArray(fc.constantFrom('general', 'gpu', 'a', 'b-2', 'p'.repeat(20)), { maxLength: 3 }),
    poolCounts: fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 3, maxLength: 3 }),
    labels: fc.dictionary(fc.constantFrom('app', 'example.com/tier', 'node.kubernetes.io/x', 'a_b.c-d'), fc.constantFrom('', 'v', 'a-b_c.d')),
    // a Node's taints are unique by key and effect
    taints: fc.uniqueArray(fc.record({ key: fc.constantFrom('gpu', 'example.com/t'), value: fc.constantFrom('', 'x'), effect: fc.constantFrom('NoSchedule', 'PreferNoSchedule', 'NoExecute') }), { maxLength: 2, selector: (t) => `${t.key}:${t.effect}` }),
    external: fc.boolean(),
    etcdCount: fc.integer({ min: 1, max: MAX_ETCD_NODES }),
    lbCount: fc.constantFrom(1, 2),
    cni: fc.constantFrom('calico', 'flannel'),
    version: fc.constantFrom('1.36.3', '1.37.0', '1.36.10'),
    uri: fc.constantFrom('qemu:///system', 'qemu:///session', 'qemu+ssh://root@host.example/system', 'test:///default'),
    poolPath: fc.option(fc.constantFrom('/srv/vm', '/var/lib/libvirt/images/x', '/tmp/k8s-lab-pf'), { nil: undefined }),
    image: fc.constantFrom('https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img', '/var/tmp/base.qcow2', 'http://[::1]:8080/i.qcow2'),
  })
  .map((r) => ({
    name: r.name,
    libvirt: { uri: r.uri, ...(r.poolPath ? { poolPath: r.poolPath } : {}) },
    image: { source: r.image },
    network: { cidr: r.net.cidr },
    controlPlane: r.controlPlane,
    workerPools: r.pools.map((name, i) => ({ name, count: r.poolCounts[i], labels: r.labels, taints: r.taints })),
    etcd: r.external ? { topology: 'external', count: r.etcdCount } : {},
    loadBalancer: r.lbCount === 2 ? { count: 2, virtualIp: r.net.vip } : { count: 1 },
    kubernetes: { cni: r.cni, version: r.version },
  }) as ClusterSpecInput);

// ---------------------------------------------------------------------------------------------
// Values and mutations

/** IPv4 CIDRs around the edges: /0, /31, /32, /33, host bits set, octets past 255, leading zeros, special blocks, junk. */
export const cidrLike: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 33 })).map(([n, p]) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/${p}`),
  fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 })).map(([n, p]) => {
    const base = p === 0 ? 0 : (n >>> (32 - p)) << (32 - p);
    return `${base >>> 24 & 255}.${(base >>> 16) & 255}.${(base >>> 8) & 255}.${base & 255}/${p}`;
  }),
  fc.constantFrom('0.0.0.0/0', '127.0.0.0/24', '169.254.0.0/24', '224.0.0.0/24', '240.0.0.0/24', '10.0.0.0/8', '10.244.0.0/16', '10.96.0.0/12', '192.168.150.0/24', '192.168.150.0/25', '192.168.150.0/31', '192.168.150.0/32', '192.168.150.0/33', '192.168.150.7/24', '256.0.0.0/8', '010.0.0.0/8', '10.0.0.0/08', '10.0.0/8', '10.0.0.0', '10.0.0.0/-1', ' 10.0.0.0/8', '10.0.0.0/8 ', '::/0', 'fd00::/64', '１０.0.0.0/8', ''),
);

/** Connection URIs libvirt documents: every driver, with and without transport, user, host, port and params. */
export const libvirtUri: fc.Arbitrary<string> = fc
  .record({
    driver: fc.constantFrom(...LIBVIRT_DRIVERS),
    transport: fc.option(fc.constantFrom(...LIBVIRT_TRANSPORTS), { nil: undefined }),
    remote: fc.option(
      fc.record({
        user: fc.option(fc.constantFrom('root', 'me', 'first.last', 'a_b-c'), { nil: undefined }),
        host: fc.constantFrom('host', 'host.example.com', '192.0.2.7', '[2001:db8::1]', 'h-1'),
        port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
      }),
      { nil: undefined },
    ),
    path: fc.constantFrom('/system', '/session', '/', '/default', '/dc1/srv1', '/embed'),
    query: fc.option(fc.constantFrom('no_verify=1', 'socket=/run/libvirt/libvirt-sock', 'keyfile=/root/.ssh/id&no_tty=1', 'transport=http'), { nil: undefined }),
  })
  .map(({ driver, transport, remote, path, query }) => {
    const authority = remote ? `${remote.user ? `${remote.user}@` : ''}${remote.host}${remote.port ? `:${remote.port}` : ''}` : '';
    return `${driver}${transport ? `+${transport}` : ''}://${authority}${path}${query ? `?${query}` : ''}`;
  });

/** Strings that are not libvirt URIs, many of them close to one. */
export const notLibvirtUri: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('http://example.invalid', 'https://libvirt.org/', 'ftp://host/system', 'file:///system', 'qemu', 'qemu:/system', 'qemu://', 'qemu:system', 'QEMU:///system', 'qemu+http://host/system', 'qemu+ssh://user@/system', 'qemu://:22/system', 'qemu://host:0/system', 'qemu://host:65536/system', 'qemu:///sys tem', 'qemu:///system\n', ' qemu:///system', 'qemu:///system#frag', 'network:///system', 'remote:///system', 'qemu:///ｓｙｓｔｅｍ', 'qemu://host name/system', ''),
  libvirtUri.chain((uri) => fc.constantFrom(uri.replace('://', ':'), `${uri} `, uri.replace(/^[a-z]+/, 'http'), uri.replace(/^([a-z]+)/, '$1+web'), `x${uri}`)),
);

/** Values of the wrong type, or strange ones, for any place in a document. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(null, true, false, [], {}, '', ' ', '\u0000', '\n', '~', 'null', '0', 'ﬁ', '𝕜𝕧𝕞', 'é'.normalize('NFD'), 'a'.repeat(300)),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

/** Values for one schema field: its edges, near misses, and anything at all. */
export function valuesFor(field: SchemaField): fc.Arbitrary<unknown> {
  const key = String(field.path[field.path.length - 1] ?? '');
  const special: fc.Arbitrary<unknown>[] = [];
  if (field.kind === 'number') {
    const { min = 0, max = 2 ** 31 } = field;
    special.push(
      fc.constantFrom(min - 1, min, max, max + 1, 0, -1, -0, 0.5, min + 0.5, 2 ** 31, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 1e308, -1e308, Infinity, -Infinity, NaN, String(min)),
      fc.integer(),
      fc.double(),
    );
  } else if (field.kind === 'enum') {
    const options = field.options ?? [];
    special.push(fc.constantFrom(...options, ...options.map((o) => o.toUpperCase()), ...options.map((o) => ` ${o}`), ...options.map((o) => `${o}\n`)));
  } else if (field.kind === 'boolean') {
    special.push(fc.constantFrom(true, false, 'true', 'yes', 1, 0));
  } else if (field.kind === 'string') {
    if (/cidr/i.test(key)) special.push(cidrLike);
    if (key === 'uri') special.push(libvirtUri, notLibvirtUri);
    if (/ip$/i.test(key)) special.push(fc.ipV4(), fc.constantFrom('192.168.150.1', '192.168.150.2', '192.168.150.255', '192.168.150.02', '1.2.3', ''));
    if (key === 'version') special.push(fc.constantFrom('1.36.03', '1.036.3', '01.36.3', '1.36.3 ', 'v1.36.3', '1.36', '1.37.0-rc.1'));
    if (/path|source/i.test(key)) special.push(fc.constantFrom('/', '//', '/.', '/a/..', '/srv/vm/', 'relative', './x', '/a\nb', '/a\u0000b', '/ä/ö', 'http://', 'https://[', 'https://host/x y', 'https://h/x.qcow2', 'ftp://h/x'));
    special.push(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom('', ' ', '-', 'a-', '-a', 'A', 'a'.repeat(64), 'a.b', 'a_b'));
  }
  return fc.oneof({ weight: 3, arbitrary: fc.oneof(...(special.length ? special : [anyValue])) }, { weight: 1, arbitrary: anyValue });
}

/** A change to a document. */
export type Mutation = (doc: Record<string, unknown>) => void;

/** Sets `value` at `path`, making the objects and arrays on the way where they are missing. */
export function setAt(doc: Record<string, unknown>, path: readonly (string | number)[], generated: unknown): void {
  // A copy: fast-check hands the same generated value to several runs (and constantFrom the same
  // object every time), so a later mutation into it must not change it for them.
  const value = structuredClone(generated);
  let node: Record<string | number, unknown> = doc;
  path.forEach((key, i) => {
    if (i === path.length - 1) {
      node[key] = value;
      return;
    }
    const next = path[i + 1];
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = typeof next === 'number' ? [] : {};
    node = node[key] as Record<string | number, unknown>;
  });
}

const FIELDS = schemaFields().filter((f) => f.path.length > 0);
const LEAVES = FIELDS.filter((f) => !['object', 'array', 'record'].includes(f.kind));
const CONTAINERS = FIELDS.filter((f) => ['object', 'array', 'record'].includes(f.kind));
/** Every leaf field the schema has, e.g. `controlPlane.count` (for the tests to show what they cover). */
export const LEAF_PATHS = LEAVES.map((f) => f.path.join('.'));

/** Keys no schema object allows, among them the ones JavaScript objects treat specially. */
const unknownKey = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '', ' ', 'memroy', 'Count', 'count ', 'ñ', '0', 'a.b', 'a/b', '$ref'), fc.string({ unit: 'grapheme', maxLength: 12 }));

/** One mutation of a valid document: every kind the issue names. */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // wrong types, out-of-range and huge numbers, unicode and empty strings, CIDR edges: at any leaf
  { weight: 6, arbitrary: fc.constantFrom(...LEAVES).chain((f) => valuesFor(f).map((v): Mutation => (d) => setAt(d, f.path, v))) },
  // unknown keys, at the top or in any object
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom<readonly (string | number)[]>([], ...CONTAINERS.filter((f) => f.kind !== 'array').map((f) => f.path)), unknownKey, anyValue).map(([p, k, v]): Mutation => (d) => setAt(d, [...p, k], v)) },
  // a container replaced by something that is not one
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...CONTAINERS), anyValue).map(([f, v]): Mutation => (d) => setAt(d, f.path, v)) },
  // duplicate worker pool names
  { weight: 1, arbitrary: fc.constantFrom<Mutation>((d) => {
    const pools = Array.isArray(d.workerPools) ? d.workerPools : [{ name: 'general' }];
    d.workerPools = [...pools, ...pools];
  }) },
  // overlapping (or not) node, pod and service ranges
  { weight: 2, arbitrary: fc.tuple(cidrLike, cidrLike, cidrLike).map(([a, b, c]): Mutation => (d) => {
    setAt(d, ['network', 'cidr'], a);
    setAt(d, ['kubernetes', 'podCidr'], b);
    setAt(d, ['kubernetes', 'serviceCidr'], c);
  }) },
  // the virtual IP anywhere in or near the node network, with one load balancer (refused) or two
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: -2, max: 300 }), fc.constantFrom(1, 2)).map(([offset, count]): Mutation => (d) => {
    const net = parseIpv4Network(String((d.network as Record<string, unknown> | undefined)?.cidr ?? '192.168.150.0/24')) ?? parseIpv4Network('192.168.150.0/24')!;
    const n = net.base + offset;
    setAt(d, ['loadBalancer', 'count'], count);
    setAt(d, ['loadBalancer', 'virtualIp'], `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`);
  }) },
);

/** A valid document with one to three mutations applied. */
export const mutatedSpecDoc: fc.Arbitrary<unknown> = fc.tuple(validSpecDoc, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([doc, ms]) => {
  const copy = structuredClone(doc) as Record<string, unknown>;
  for (const m of ms) m(copy);
  return copy;
});

/** Documents that are not mappings. */
export const notAMapping: fc.Arbitrary<unknown> = fc.oneof(fc.array(fc.jsonValue({ maxDepth: 2 })), fc.string(), fc.integer(), fc.double(), fc.boolean());

/** YAML text of a valid document, broken: characters inserted, removed, the text cut short. */
export const brokenYaml: fc.Arbitrary<string> = fc
  .tuple(validSpecDoc.map((d) => YAML.stringify(d)), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 8 }), fc.constantFrom('', ':', ': ', '-', '- ', '{', '}', '[', ']', '"', "'", '\t', '\n', '  ', '#', '&a ', '*a', '!!binary ', '!!set ', '!foo ', '? ', '---\n', '...\n', '%YAML 1.1\n', '<<: *a\n', '|', '>', '\u0000', '\ufeff', 'é', '𝕜')), { minLength: 1, maxLength: 4 }))
  .map(([text, edits]) => edits.reduce((t, [at, del, ins]) => {
    const i = at % (t.length + 1);
    return t.slice(0, i) + ins + t.slice(i + del);
  }, text));

/** YAML that attacks the parser or the checks: alias bombs, self-reference, deep nesting, odd tags and keys. */
export const hostileYaml: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 2, max: 12 }).map((n) => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < n; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    return `${lines.join('\n')}\n`;
  }),
  fc.constantFrom('name: &a [*a]\n', 'workerPools: &p [*p]\n', 'libvirt: &l {uri: *l}\n', '&top {name: *top}\n', 'workerPools:\n  - &w {name: a, labels: *w}\n'),
  fc.integer({ min: 1, max: 1500 }).map((n) => `controlPlane: ${'['.repeat(n)}${']'.repeat(n)}\n`),
  fc.integer({ min: 1, max: 1500 }).map((n) => `name: ${'{a: '.repeat(n)}1${'}'.repeat(n)}\n`),
  fc.constantFrom(
    '? [a, b]\n: c\n',
    '? {a: 1}\n: c\n',
    'workerPools:\n  - name: a\n    labels: {__proto__: x}\n',
    '__proto__: {name: x}\n',
    'name: !!binary aGVsbG8=\n',
    'controlPlane: !!set {a, b}\n',
    'controlPlane: !!omap [{count: 1}]\n',
    'name: !custom k8s\n',
    'controlPlane: {count: 0x3}\n',
    'controlPlane: {count: .inf}\n',
    'controlPlane: {count: .nan}\n',
    'controlPlane: {count: 1e400}\n',
    'controlPlane: {count: 123456789012345678901234567890}\n',
    'name: a\n---\nname: b\n',
    '---\n...\n',
    '%YAML 1.1\n---\ncontrolPlane: {count: 0o3}\n',
    'base: &b {count: 1}\ncontrolPlane:\n  <<: *b\n',
    '\ufeffname: a\n',
    'name: "\\ud800"\n',
    '',
    '\n\n\n',
    '# only a comment\n',
    '~\n',
    '[]\n',
    '"just a string"\n',
    '- a\n- b\n',
  ),
);

// ---------------------------------------------------------------------------------------------
// The property

/** A problem line names a path first: `(top level)`, `a.b[0]["c d"]`, or the YAML position. */
const PROBLEM_LINE = /^(YAML( syntax)?: \S|(\(top level\)|[A-Za-z_$][\w$]*|\[\d+\]|\["(?:[^"\\]|\\.)*"\])(\[\d+\]|\.[A-Za-z_$][\w$]*|\["(?:[^"\\]|\\.)*"\])*(, .+)?: \S)/s;

/**
 * What is wrong with how the loader treated one input: empty when it either threw a
 * ClusterSpecError whose every problem names a path, or returned a spec whose plan holds every
 * invariant. Any other exception is returned as a violation, with its stack.
 */
export function loaderViolations(input: unknown | (() => unknown), load: () => LoadedSpec): string[] {
  let loaded: LoadedSpec;
  try {
    loaded = load();
  } catch (e) {
    if (!(e instanceof ClusterSpecError)) return [`threw ${(e as Error)?.name ?? typeof e} instead of ClusterSpecError: ${(e as Error)?.stack ?? String(e)}`];
    const problems: string[] = [];
    if (e.problems.length === 0) problems.push('ClusterSpecError with no problem');
    for (const p of e.problems) {
      if (!PROBLEM_LINE.test(p)) problems.push(`problem does not start with a path: ${JSON.stringify(p)}`);
      if (/\n\s+at /.test(p)) problems.push(`problem carries a stack trace: ${JSON.stringify(p)}`);
    }
    return problems;
  }
  // The input document is needed only for an accepted spec: a function computes it then (YAML text parses once more).
  return [...planViolations(loaded), ...droppedInput(typeof input === 'function' ? (input as () => unknown)() : input, loaded.spec, [])];
}

/** The invariants of an accepted spec and its plan, broken ones as lines. */
export function planViolations(loaded: LoadedSpec): string[] {
  const { spec, warnings } = loaded;
  const v: string[] = [];
  let plan;
  try {
    plan = planCluster(spec);
  } catch (e) {
    return [`planCluster threw: ${(e as Error).stack}`];
  }
  const net = parseIpv4Network(spec.network.cidr);
  const pod = parseIpv4Network(spec.kubernetes.podCidr);
  const svc = parseIpv4Network(spec.kubernetes.serviceCidr);
  const dup = (xs: string[]) => xs.filter((x, i) => xs.indexOf(x) !== i);
  if (!net || !pod || !svc) return [`a CIDR does not parse: ${spec.network.cidr} ${spec.kubernetes.podCidr} ${spec.kubernetes.serviceCidr}`];
  if (overlaps(net, pod) || overlaps(net, svc) || overlaps(pod, svc)) v.push(`ranges overlap: node ${net.cidr}, pod ${pod.cidr}, service ${svc.cidr}`);
  if (svc.prefixLength < 12 || svc.prefixLength > 28) v.push(`the service network ${svc.cidr} is outside kubeadm's /12 to /28`);
  const kubelets = plan.controlPlanes.length + plan.workers.length;
  if (pod.prefixLength < 8 || 2 ** (24 - pod.prefixLength) < kubelets) v.push(`the pod network ${pod.cidr} does not hold one /24 for each of ${kubelets} nodes, or is larger than kubeadm's /8`);
  for (const pool of spec.workerPools) {
    const pairs = pool.taints.map((t) => `${t.key}:${t.effect}`);
    if (dup(pairs).length > 0) v.push(`pool ${pool.name} repeats the taints ${dup(pairs).join(', ')}`);
  }

  const nodes = plan.nodes;
  for (const [what, xs] of [['hostname', nodes.map((n) => n.hostname)], ['MAC', nodes.map((n) => n.mac)], ['IP', nodes.map((n) => n.ip)]] as const) {
    if (dup([...xs]).length > 0) v.push(`duplicate ${what}s: ${dup([...xs]).join(', ')}`);
  }
  for (const n of nodes) {
    if (!isDns1123Label(n.hostname)) v.push(`hostname ${n.hostname} is not a DNS-1123 label`);
    const offset = offsetOf(net, n.ip);
    if (offset === undefined || offset < ADDRESS_PLAN.firstLoadBalancerOffset || offset > net.size - 2) v.push(`${n.hostname}'s IP ${n.ip} is not a node address of ${net.cidr}`);
    if (n.mac !== macForIp(n.ip) || !/^52:54:00(:[0-9A-F]{2}){3}$/.test(n.mac)) v.push(`${n.hostname}'s MAC ${n.mac} is not derived from ${n.ip}`);
  }
  const apiOffset = offsetOf(net, plan.apiEndpoint.ip);
  if (apiOffset === undefined) v.push(`the API endpoint ${plan.apiEndpoint.ip} is outside ${net.cidr}`);
  if (spec.loadBalancer.count === 2) {
    const vip = spec.loadBalancer.virtualIp === undefined ? undefined : offsetOf(net, spec.loadBalancer.virtualIp);
    if (vip === undefined || vip < ADDRESS_PLAN.virtualIpOffsets.min || vip > ADDRESS_PLAN.virtualIpOffsets.max) v.push(`two load balancers without a virtual IP in the reserved range: ${spec.loadBalancer.virtualIp}`);
  }
  if (spec.loadBalancer.count === 1 && spec.loadBalancer.virtualIp !== undefined) v.push(`one load balancer with a virtual IP nothing holds: ${spec.loadBalancer.virtualIp}`);
  if (!/^1\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/.test(spec.kubernetes.version)) v.push(`kubernetes.version ${spec.kubernetes.version} is not MAJOR.MINOR.PATCH without leading zeros`);
  for (const [what, n] of [['node', net], ['pod', pod], ['service', svc]] as const) {
    for (const special of ['0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/4', '240.0.0.0/4']) {
      if (overlaps(n, parseIpv4Network(special)!)) v.push(`the ${what} network ${n.cidr} overlaps ${special}`);
    }
  }
  // Quorum rules: a bounded control plane; a single or even one is allowed but warned about; the same for external etcd.
  const cp = spec.controlPlane.count;
  if (cp < 1 || cp > MAX_CONTROL_PLANE_NODES) v.push(`controlPlane.count ${cp} out of range`);
  if ((cp === 1 || cp % 2 === 0) && !warnings.some((w) => w.startsWith('controlPlane.count'))) v.push(`no quorum warning for controlPlane.count ${cp}`);
  if (spec.etcd.topology === 'external') {
    if (spec.etcd.count < 1 || spec.etcd.count > MAX_ETCD_NODES) v.push(`etcd.count ${spec.etcd.count} out of range`);
    if (spec.etcd.count % 2 === 0 && !warnings.some((w) => w.startsWith('etcd.count'))) v.push(`no quorum warning for etcd.count ${spec.etcd.count}`);
    if (plan.etcdNodes.length !== spec.etcd.count) v.push('external etcd members missing from the plan');
  }
  // What the host will be handed.
  if (!parseLibvirtUri(spec.libvirt.uri)) v.push(`libvirt.uri ${JSON.stringify(spec.libvirt.uri)} is not a libvirt URI`);
  if (!spec.libvirt.poolPath.startsWith('/') || /[\x00-\x1f]/.test(spec.libvirt.poolPath)) v.push(`libvirt.poolPath ${JSON.stringify(spec.libvirt.poolPath)} is not a clean absolute path`);
  const src = spec.image.source;
  let url: URL | undefined;
  try {
    url = /^https?:/.test(src) ? new URL(src) : undefined;
  } catch {
    v.push(`image.source ${JSON.stringify(src)} looks like a URL but does not parse as one`);
  }
  if (!url && !(src.startsWith('/') && !/[\x00-\x1f]/.test(src))) v.push(`image.source ${JSON.stringify(src)} is neither a URL nor a clean absolute path`);
  if (url && url.hostname === '') v.push(`image.source ${JSON.stringify(src)} has no host`);
  return v;
}

/** Keys of the input that an accepted spec silently lost (every key the user wrote must count). */
function droppedInput(input: unknown, output: unknown, at: (string | number)[]): string[] {
  if (typeof input !== 'object' || input === null) return [];
  if (typeof output !== 'object' || output === null) return [`${at.join('.')}: the input's ${JSON.stringify(input)} became ${JSON.stringify(output)}`];
  const lost: string[] = [];
  for (const key of Object.keys(input)) {
    if (!Object.prototype.hasOwnProperty.call(output, key)) lost.push(`${[...at, key].join('.')}: in the input, missing from the accepted spec`);
    else lost.push(...droppedInput((input as Record<string, unknown>)[key], (output as Record<string, unknown>)[key], [...at, key]));
  }
  return lost;
}
