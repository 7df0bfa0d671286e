import { renderNodeFiles } from '../../bootstrap';
import { parseClusterSpec, planCluster } from '../../spec';
import { FAKE_SECRETS } from '../fixtures/fake-secrets';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const serializer = require('../support/redact-private-keys.js');

describe('snapshot serializer redact-private-keys', () => {
  // GIVEN the first control plane's user-data, which carries the (fake) CA key
  const plan = planCluster(parseClusterSpec({}).spec);
  const userData = renderNodeFiles(plan, plan.controlPlanes[0], FAKE_SECRETS)['user-data'];

  test('claims strings holding a PEM private key, and only those', () => {
    expect(userData).toContain(FAKE_SECRETS.caKeyPem.split('\n')[1]);
    expect(serializer.test(userData)).toBe(true);
    expect(serializer.test(FAKE_SECRETS.caCertPem)).toBe(false);
    expect(serializer.test(42)).toBe(false);
  });

  test('replaces the key block with a placeholder and keeps everything else', () => {
    const printed = serializer.serialize(userData, {}, '', 0, [], (v: string) => v);
    expect(printed).not.toMatch(/PRIVATE KEY-----/);
    expect(printed).not.toContain(FAKE_SECRETS.caKeyPem.split('\n')[1]);
    expect(printed).toContain('<private key of the fake fixture set, redacted in snapshots>');
    expect(printed).toContain(FAKE_SECRETS.caCertPem.split('\n')[1]);
    expect(printed.split('\n').length).toBe(userData.split('\n').length - (FAKE_SECRETS.caKeyPem.trimEnd().split('\n').length - 1));
  });
});
