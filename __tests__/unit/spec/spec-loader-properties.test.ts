/**
 * Property tests: no input crashes the spec loader. From valid specs, fast-check generates
 * mutations (wrong types, out-of-range and huge numbers, unknown keys, unicode and empty strings,
 * CIDR edge cases, overlapping ranges, duplicate names, broken YAML, documents that are not maps).
 * The loader must either return a spec whose plan holds the invariants, or throw a ClusterSpecError
 * whose every problem names a path — never another exception.
 */
import * as fc from 'fast-check';
import * as YAML from 'yaml';
import { parseClusterSpec, parseClusterSpecYaml, parseLibvirtUri } from '../../../spec';
import {
  LEAF_PATHS,
  brokenYaml,
  hostileYaml,
  libvirtUri,
  loaderViolations,
  mutatedSpecDoc,
  notAMapping,
  notLibvirtUri,
  planViolations,
  validSpecDoc,
} from './support/spec-arbitraries';

/** Generated cases run by this file's properties; the last test checks the total. */
let cases = 0;
const counted = <T>(predicate: (x: T) => void) => (x: T) => {
  cases++;
  predicate(x);
};

/** Fails, listing them, unless `violations` is empty. */
function expectNone(violations: string[], input: unknown): void {
  if (violations.length > 0) throw new Error(`${violations.join('\n')}\ninput: ${typeof input === 'string' ? input : JSON.stringify(input)}`);
}

/** The document YAML text parses to, when it parses (for the dropped-input check). */
function docOf(text: string): unknown {
  try {
    const doc = YAML.parseDocument(text, { uniqueKeys: true });
    return doc.errors.length === 0 ? doc.toJS() : undefined;
  } catch {
    return undefined;
  }
}

describe('the spec loader under generated input', () => {
  test('the mutations reach every leaf field of the schema (they are derived from it)', () => {
    // GIVEN the schema's leaves, as the generators see them  THEN the known fields are among them
    expect(LEAF_PATHS).toEqual(expect.arrayContaining(['name', 'libvirt.uri', 'network.cidr', 'controlPlane.count', 'workerPools.0.name', 'workerPools.0.labels.app', 'workerPools.0.taints.0.effect', 'loadBalancer.virtualIp', 'kubernetes.serviceCidr']));
  });

  test('every generated base spec is accepted, and its plan holds the invariants', () => {
    fc.assert(fc.property(validSpecDoc, counted((doc) => {
      const loaded = parseClusterSpec(doc);
      expectNone(planViolations(loaded), doc);
    })), { numRuns: 500 });
  });

  test('a mutated spec document gives a valid plan or a ClusterSpecError naming a path', () => {
    fc.assert(fc.property(mutatedSpecDoc, counted((doc) => expectNone(loaderViolations(doc, () => parseClusterSpec(doc)), doc))), { numRuns: 6500 });
  });

  test('a document that is not a mapping is refused at the top level', () => {
    fc.assert(fc.property(notAMapping, counted((doc) => {
      expectNone(loaderViolations(doc, () => parseClusterSpec(doc)), doc);
      expect(() => parseClusterSpec(doc)).toThrow(/\(top level\): must be a mapping/);
    })), { numRuns: 500 });
  });

  test('broken YAML text gives a valid plan or a ClusterSpecError', () => {
    fc.assert(fc.property(brokenYaml, counted((text) => expectNone(loaderViolations(() => docOf(text), () => parseClusterSpecYaml(text, 'generated.yaml')), text))), { numRuns: 1500 });
  });

  test('hostile YAML (alias bombs, self-reference, deep nesting, odd tags and keys) gives a valid plan or a ClusterSpecError', () => {
    fc.assert(fc.property(hostileYaml, counted((text) => expectNone(loaderViolations(() => docOf(text), () => parseClusterSpecYaml(text, 'generated.yaml')), text))), { numRuns: 300 });
  });

  test('libvirt.uri accepts every form of libvirt URI the docs give', () => {
    fc.assert(fc.property(libvirtUri, counted((uri) => {
      expect(parseLibvirtUri(uri)).toBeDefined();
      expect(parseClusterSpec({ libvirt: { uri } }).spec.libvirt.uri).toBe(uri);
    })), { numRuns: 500 });
  });

  test('fails when libvirt.uri is anything but a libvirt URI, naming the field, the value and the form', () => {
    fc.assert(fc.property(notLibvirtUri, counted((uri) => {
      expect(() => parseClusterSpec({ libvirt: { uri } })).toThrow(/libvirt\.uri: must be a libvirt URI driver\[\+transport\]:\/\/\[user@\]\[host\]\[:port\]\/path\[\?params\] with driver one of qemu, /);
    })), { numRuns: 500 });
  });

  test('ran at least 10,000 generated cases', () => {
    expect(cases).toBeGreaterThanOrEqual(10_000);
  });
});

describe('what the properties found, kept as examples', () => {
  test.each<[string, string, RegExp]>([
    ['fails when libvirt.uri is an http URL', 'libvirt: {uri: "http://example.invalid"}\n', /libvirt\.uri: must be a libvirt URI .* \(got "http:\/\/example\.invalid"\)/],
    ['fails when an alias is expanded too often (an alias bomb)', 'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n', /YAML: Excessive alias count/],
    ['fails when a node contains itself through an alias', 'workerPools: &p [*p]\n', /workerPools\[0\]: must not contain itself/],
    ['fails when a label key is __proto__ (it would vanish silently)', 'workerPools:\n  - name: a\n    labels: {__proto__: x}\n', /workerPools\[0\]\.labels\.__proto__: is not allowed as a key/],
    ['fails when image.source is an URL that does not parse', 'image: {source: "http://["}\n', /image\.source: must be an http\(s\) URL with a host, or an absolute local path .*\(got "http:\/\/\["\)/],
    ['fails when libvirt.poolPath holds a newline', 'libvirt: {poolPath: "/srv/a\\nb"}\n', /libvirt\.poolPath: must be an absolute local path \(starting with \/, no control characters\)/],
    ['fails, as a YAML error, when nesting is deeper than the parser can go', `controlPlane: ${'['.repeat(20000)}${']'.repeat(20000)}\n`, /YAML syntax: Maximum call stack size exceeded/],
    ['fails when libvirt.poolPath comes back to /', 'libvirt: {poolPath: "/srv/.."}\n', /libvirt\.poolPath: must not be \//],
  ])('%s', (_name, text, message) => {
    expect(() => parseClusterSpecYaml(text, 'x.yaml')).toThrow(message);
  });
});
