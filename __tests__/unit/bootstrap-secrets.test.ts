import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ClusterSecrets, generateBootstrapToken, loadOrCreateSecrets, parseClusterSecrets } from '../../bootstrap';
import { FAKE_SECRETS } from '../fixtures/fake-secrets';
import fakeJson from '../fixtures/fake-secrets.json';

// The generator is injected with the fake set, so this tier runs no openssl; the real CA
// generation is checked against openssl itself in __tests__/tools/bootstrap-ca-openssl.test.ts.

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-lab-secrets-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const fakeGenerator = () => {
  const calls: number[] = [];
  return { calls, generate: (): ClusterSecrets => (calls.push(1), FAKE_SECRETS) };
};

describe('loadOrCreateSecrets', () => {
  test('creates <dir>/<cluster>/secrets.json with mode 0600 in a 0700 directory', () => {
    // GIVEN no secrets yet
    const g = fakeGenerator();
    // WHEN
    const secrets = loadOrCreateSecrets('lab', dir, g.generate);
    // THEN
    const file = path.join(dir, 'lab', 'secrets.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(dir, 'lab')).mode & 0o777).toBe(0o700);
    expect(secrets).toEqual(FAKE_SECRETS);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject(FAKE_SECRETS);
    expect(g.calls).toHaveLength(1);
    expect(fs.readdirSync(path.join(dir, 'lab')).sort()).toEqual(['.gitignore', 'secrets.json']);
  });

  test('reuses the file on later calls: same secrets, same bytes, no new generation', () => {
    // GIVEN a first call made the file
    const g = fakeGenerator();
    loadOrCreateSecrets('lab', dir, g.generate);
    const before = fs.readFileSync(path.join(dir, 'lab', 'secrets.json'));
    // WHEN
    const again = loadOrCreateSecrets('lab', dir, () => {
      throw new Error('must not generate again');
    });
    // THEN
    expect(again).toEqual(FAKE_SECRETS);
    expect(fs.readFileSync(path.join(dir, 'lab', 'secrets.json'))).toEqual(before);
  });

  test('keeps clusters apart', () => {
    loadOrCreateSecrets('one', dir, fakeGenerator().generate);
    expect(fs.existsSync(path.join(dir, 'two', 'secrets.json'))).toBe(false);
  });

  test('fails when the file is corrupt, naming the field, and leaves the file alone', () => {
    // GIVEN a file whose token was mangled
    fs.mkdirSync(path.join(dir, 'lab'), { mode: 0o700 });
    const file = path.join(dir, 'lab', 'secrets.json');
    const text = JSON.stringify({ ...fakeJson, bootstrapToken: 'NOT-A-TOKEN' });
    fs.writeFileSync(file, text, { mode: 0o600 });
    // WHEN / THEN
    expect(() => loadOrCreateSecrets('lab', dir, fakeGenerator().generate)).toThrow(/secrets\.json: bootstrapToken must match \[a-z0-9\]\{6\}\.\[a-z0-9\]\{16\}/);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });

  test('fails when the file is not JSON', () => {
    fs.mkdirSync(path.join(dir, 'lab'));
    fs.writeFileSync(path.join(dir, 'lab', 'secrets.json'), '{ not json');
    expect(() => loadOrCreateSecrets('lab', dir, fakeGenerator().generate)).toThrow(/secrets\.json: \(file\) is not valid JSON/);
  });

  test.each([
    ['a token that lost its quotes', (t: string) => t.replace(`"${fakeJson.bootstrapToken}"`, fakeJson.bootstrapToken), /is not valid JSON \(Unexpected token: a character JSON does not allow there\)/],
    ['a missing comma', (t: string) => t.replace('",\n  "certificateKey"', '"\n  "certificateKey"'), /is not valid JSON \(Expected ',' or '\}' after property value in JSON at position \d+\)/],
    ['a string left open', (t: string) => t.slice(0, t.indexOf(fakeJson.bootstrapToken) + 4), /is not valid JSON \(Unterminated string in JSON at position \d+\)/],
  ])('a JSON error with %s says what is wrong (and where, when node says), and quotes no part of the file (node may quote an excerpt, here a secret)', (_case, edit, message) => {
    // GIVEN a hand-edited file
    fs.mkdirSync(path.join(dir, 'lab'));
    fs.writeFileSync(path.join(dir, 'lab', 'secrets.json'), edit(JSON.stringify(fakeJson, null, 2)));
    // WHEN it is loaded THEN the error says what is wrong, and no character of the token
    const load = () => loadOrCreateSecrets('lab', dir, fakeGenerator().generate);
    expect(load).toThrow(message);
    expect(load).toThrow(expect.objectContaining({ message: expect.not.stringContaining(fakeJson.bootstrapToken.slice(0, 4)) }));
  });

  test('fails when the cluster name could escape the directory', () => {
    expect(() => loadOrCreateSecrets('../evil', dir, fakeGenerator().generate)).toThrow(/clusterName must be a DNS-1123 label/);
  });
});

describe('parseClusterSecrets', () => {
  test('accepts the fake fixture (its hash is its certificate\'s)', () => {
    expect(parseClusterSecrets(fakeJson, 'fake')).toEqual(FAKE_SECRETS);
  });

  test.each([
    ['bootstrapToken', { bootstrapToken: 'abc.def' }, /bootstrapToken must match/],
    ['certificateKey', { certificateKey: 'ab' }, /certificateKey must be 64 lowercase hex digits/],
    ['caCertPem', { caCertPem: 'garbage' }, /caCertPem is not a PEM X\.509 certificate/],
    ['caKeyPem', { caKeyPem: 'garbage' }, /caKeyPem is not a PEM private key/],
    ['caCertHash format', { caCertHash: 'md5:00' }, /caCertHash must be sha256:<64 lowercase hex digits>/],
    ['caCertHash value', { caCertHash: 'sha256:' + '0'.repeat(64) }, /caCertHash is sha256:0+ but caCertPem's public key hashes to sha256:8db6e9/],
    ['a missing field', { certificateKey: undefined }, /certificateKey is missing or not a string \(got nothing\)/],
    ['a field of the wrong type', { bootstrapToken: 42 }, /bootstrapToken is missing or not a string \(got number\)/],
    ['an unknown field', { tokenn: 'x' }, /tokenn is not a known field \(allowed: bootstrapToken, certificateKey/],
  ])('fails when %s is wrong, naming the field', (_case, change, message) => {
    expect(() => parseClusterSecrets({ ...fakeJson, ...change }, 'f.json')).toThrow(message);
  });

  test('fails when the key does not belong to the certificate', () => {
    const { privateKey } = require('crypto').generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const otherKey = privateKey.export({ type: 'pkcs8', format: 'pem' });
    expect(() => parseClusterSecrets({ ...fakeJson, caKeyPem: otherKey }, 'f.json')).toThrow(/caKeyPem does not belong to caCertPem/);
  });

  test('fails when the document is not an object', () => {
    expect(() => parseClusterSecrets([], 'f.json')).toThrow(/f\.json: \(top level\) must be a JSON object/);
  });

  test('error messages never contain a secret value', () => {
    const bad = { ...fakeJson, bootstrapToken: 'secret.valuesecretvalue!' };
    expect(() => parseClusterSecrets(bad, 'f.json')).toThrow(expect.objectContaining({ message: expect.not.stringContaining('secretvalue') }));
  });
});

describe('generateBootstrapToken', () => {
  test('has kubeadm\'s format and differs between calls', () => {
    const tokens = Array.from({ length: 20 }, generateBootstrapToken);
    for (const t of tokens) expect(t).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(new Set(tokens).size).toBe(20);
  });
});
