import { joinPinsCa } from '../../../policy';
import { LABELLED_SPEC } from '../../fixtures/bootstrap-helpers';
import { editYamlDocs, entry, host, renderedInput, withFile, withUserData } from './policy-fixtures';

const input = renderedInput();
const KUBEADM = '/etc/k8s-lab/kubeadm.yaml';
const messages = (i: typeof input) => joinPinsCa.check(i).map((f) => `${f.node}: ${f.message}`);

describe('join-pins-ca', () => {
  test.each([
    ['the default cluster', {}],
    ['a labelled pool with an SSH key', LABELLED_SPEC],
  ])('compliant: %s', (_name, doc) => {
    expect(joinPinsCa.check(renderedInput(doc))).toEqual([]);
  });

  test('the rule reads the JoinConfiguration of every joining node (not the init node)', () => {
    // GIVEN every join document without its pin
    let tampered = input;
    for (const suffix of ['cp-1', 'cp-2', 'cp-3', 'worker-general-1', 'worker-general-2']) {
      tampered = withFile(tampered, suffix, 'kubeadm.yaml', (t) => editYamlDocs(t, (d) => d.discovery && (d.discovery.bootstrapToken.caCertHashes = [])));
    }
    // THEN exactly the four joining nodes are reported
    expect(joinPinsCa.check(tampered).map((f) => f.node)).toEqual([host('cp-2'), host('cp-3'), host('worker-general-1'), host('worker-general-2')]);
  });

  test('fails when a worker pins no CA hash', () => {
    const tampered = withFile(input, 'worker-general-1', 'kubeadm.yaml', (t) => editYamlDocs(t, (d) => delete d.discovery.bootstrapToken.caCertHashes));
    expect(messages(tampered)).toEqual([`${host('worker-general-1')}: kubeadm.yaml JoinConfiguration discovery.bootstrapToken.caCertHashes must list the cluster CA's hash, got undefined`]);
  });

  test('fails when the copy in user-data skips CA verification, or pins something that is not a sha256 hash', () => {
    const tampered = withUserData(input, 'cp-2', (c) => {
      const f = entry(c, KUBEADM);
      f.content = editYamlDocs(f.content, (d) => {
        d.discovery.bootstrapToken.unsafeSkipCAVerification = true;
        d.discovery.bootstrapToken.caCertHashes = ['md5:abc'];
      });
    });
    expect(messages(tampered)).toEqual([
      `${host('cp-2')}: user-data write_files ${KUBEADM} JoinConfiguration caCertHashes entry must be sha256:<64 hex digits>, got "md5:abc"`,
      `${host('cp-2')}: user-data write_files ${KUBEADM} JoinConfiguration discovery.bootstrapToken.unsafeSkipCAVerification is true: the node would trust any API server`,
    ]);
  });

  test('fails when a node discovers the cluster through a kubeconfig file', () => {
    const tampered = withFile(input, 'worker-general-2', 'kubeadm.yaml', (t) => editYamlDocs(t, (d) => (d.discovery = { file: { kubeConfigPath: '/etc/k8s-lab/discovery.conf' } })));
    expect(messages(tampered)).toEqual([
      `${host('worker-general-2')}: kubeadm.yaml JoinConfiguration discovery.file is set: a kubeconfig-file discovery trusts whatever that file says; use discovery.bootstrapToken with caCertHashes`,
      `${host('worker-general-2')}: kubeadm.yaml JoinConfiguration has no discovery.bootstrapToken`,
    ]);
  });

  test('fails when a joining node has no JoinConfiguration at all', () => {
    // GIVEN cp-3 without any kubeadm config (neither the copy nor the user-data entry)
    const noCopy = withFile(input, 'cp-3', 'kubeadm.yaml', () => undefined);
    const tampered = withUserData(noCopy, 'cp-3', (c) => (c.write_files = c.write_files.filter((f: { path: string }) => f.path !== KUBEADM)));
    expect(messages(tampered)).toEqual([`${host('cp-3')}: no JoinConfiguration in any kubeadm.yaml, but this node joins the cluster`]);
  });

  test('fails when a step passes --discovery-token-unsafe-skip-ca-verification', () => {
    const tampered = withUserData(input, 'worker-general-1', (c) => c.runcmd.push('kubeadm join api.k8s.lab:6443 --token x --discovery-token-unsafe-skip-ca-verification'));
    expect(messages(tampered)).toEqual([`${host('worker-general-1')}: runcmd passes --discovery-token-unsafe-skip-ca-verification`]);
  });

  test('fails, rather than throws, on a kubeadm.yaml that is not YAML', () => {
    const tampered = withFile(input, 'worker-general-1', 'kubeadm.yaml', () => 'kind: [JoinConfiguration\n');
    expect(messages(tampered)).toEqual([expect.stringMatching(new RegExp(`^${host('worker-general-1')}: kubeadm.yaml document 1 is not valid YAML`))]);
  });
});
