import * as YAML from 'yaml';
import { secretsNotWorldReadable } from '../../../policy';
import { LABELLED_SPEC } from '../../fixtures/bootstrap-helpers';
import { FAKE_SECRETS } from '../../fixtures/fake-secrets';
import { AnyConfig, entry, host, renderedInput, withUserData } from './policy-fixtures';

const input = renderedInput();
const INIT_SCRIPT = '/usr/local/sbin/k8s-lab-init-control-plane.sh';
const messages = (i: typeof input) => secretsNotWorldReadable.check(i).map((f) => `${f.node}: ${f.message}`);
/** cp-1's init script with `from` replaced by `to` (which must be there). */
const editInitScript = (from: string, to: string) =>
  withUserData(input, 'cp-1', (c) => {
    const script = entry(c, INIT_SCRIPT);
    if (!script.content.includes(from)) throw new Error(`${INIT_SCRIPT} has no ${from}`);
    script.content = script.content.replace(from, to);
  });
const addFile = (suffix: string, file: AnyConfig) => withUserData(input, suffix, (c) => c.write_files.push(file));

describe('secrets-not-world-readable', () => {
  test.each([
    ['the default cluster', {}],
    ['a labelled pool with an SSH key', LABELLED_SPEC],
  ])('compliant: %s', (_name, doc) => {
    expect(secretsNotWorldReadable.check(renderedInput(doc))).toEqual([]);
  });

  test('fails when kubeadm.yaml (token, certificate key) is written world-readable', () => {
    const tampered = withUserData(input, 'worker-general-2', (c) => (entry(c, '/etc/k8s-lab/kubeadm.yaml').permissions = '0644'));
    expect(messages(tampered)).toEqual([`${host('worker-general-2')}: user-data write_files /etc/k8s-lab/kubeadm.yaml holds a bootstrap token but has permissions "0644"; use '0600'`]);
  });

  test('fails when the CA key is group-readable by a group other than root; 0640 root:root passes', () => {
    const key = '/etc/k8s-lab/pki/ca.key';
    const rootGroup = withUserData(input, 'cp-1', (c) => Object.assign(entry(c, key), { permissions: '0640', owner: 'root:root' }));
    const otherGroup = withUserData(input, 'cp-1', (c) => Object.assign(entry(c, key), { permissions: '0640', owner: 'root:ubuntu' }));
    expect(messages(rootGroup)).toEqual([]);
    expect(messages(otherGroup)).toEqual([`${host('cp-1')}: user-data write_files ${key} holds a private key but has permissions "0640" (owner root:ubuntu); use '0600'`]);
  });

  test('fails for any written file that holds the token, whatever its path', () => {
    const tampered = addFile('lb-1', { path: '/etc/k8s-lab/join.env', content: `TOKEN=${FAKE_SECRETS.bootstrapToken}\n`, permissions: '0644' });
    expect(messages(tampered)).toEqual([`${host('lb-1')}: user-data write_files /etc/k8s-lab/join.env holds a bootstrap token but has permissions "0644"; use '0600'`]);
  });

  test('fails when the operator kubeconfig is installed world-readable, or without -m', () => {
    const from = 'install -m 0600 -o ubuntu -g ubuntu /etc/kubernetes/admin.conf /home/ubuntu/.kube/config';
    const worldReadable = editInitScript(from, from.replace('0600', '0644'));
    const noMode = editInitScript(from, 'install -o ubuntu -g ubuntu /etc/kubernetes/admin.conf /home/ubuntu/.kube/config');
    expect(messages(worldReadable)).toEqual([expect.stringMatching(/^k8s-lab-cp-1: \/usr\/local\/sbin\/k8s-lab-init-control-plane.sh line \d+: install -m 0644 .* installs a secret file with mode 0644; use -m 0600$/)]);
    expect(messages(noMode)).toEqual([expect.stringContaining('installs a secret file without -m (install defaults to 0755); use -m 0600')]);
  });

  test('fails when the CA key is installed 0644 through shell variables', () => {
    const tampered = editInitScript(
      'install -m 0600 /etc/k8s-lab/pki/ca.key /etc/kubernetes/pki/ca.key',
      'readonly staged_key=/etc/k8s-lab/pki/ca.key\n  install -m 0644 "${staged_key}" "/etc/kubernetes/pki/ca.key"',
    );
    expect(messages(tampered)).toEqual([expect.stringContaining('install -m 0644 /etc/k8s-lab/pki/ca.key /etc/kubernetes/pki/ca.key installs a secret file with mode 0644')]);
  });

  test('fails when a step chmods a secret file world-readable', () => {
    const tampered = withUserData(input, 'worker-general-1', (c) => c.runcmd.push('chmod 0644 /etc/k8s-lab/kubeadm.yaml'));
    expect(messages(tampered)).toEqual([`${host('worker-general-1')}: runcmd line 2: chmod 0644 /etc/k8s-lab/kubeadm.yaml gives a secret file mode 0644; use 0600`]);
  });

  test('installs of files that hold no secret are not findings', () => {
    // GIVEN the rendered scripts' own 0644 installs (containerd config, apt source, CA certificate)
    const cp1 = entry(YAML.parse(input.files[host('cp-1')]['user-data']), INIT_SCRIPT).content as string;
    expect(cp1).toContain('install -m 0644 /etc/k8s-lab/pki/ca.crt /etc/kubernetes/pki/ca.crt');
    // THEN the compliant default shows they are allowed
    expect(messages(input)).toEqual([]);
  });
});
