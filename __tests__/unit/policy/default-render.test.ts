import * as fs from 'fs';
import * as path from 'path';
import * as policy from '../../../policy';
import { POLICY_RULES, checkPolicy, formatFindings } from '../../../policy';
import { ClusterSpecInput, Cni, EtcdTopology } from '../../../spec';
import { LABELLED_SPEC } from '../../fixtures/bootstrap-helpers';
import { renderedInput, withUserData } from './policy-fixtures';

describe('policy over the rendered cluster', () => {
  test.each<[string, ClusterSpecInput]>([
    ['the default spec', {}],
    ['a labelled, tainted pool and an SSH key', LABELLED_SPEC],
    ['two load balancers with a virtual IP, flannel', { loadBalancer: { count: 2, virtualIp: '192.168.150.2' }, kubernetes: { cni: Cni.FLANNEL } }],
    ['external etcd', { etcd: { topology: EtcdTopology.EXTERNAL } }],
  ])('%s: every rule passes on every node', (_name, doc) => {
    // GIVEN the files the bootstrap renders (FAKE_SECRETS)
    const input = renderedInput(doc);
    // WHEN
    const findings = checkPolicy(input);
    // THEN
    expect(formatFindings(findings)).toBe('');
    expect(Object.keys(input.files)).toEqual(input.plan.nodes.map((n) => n.hostname));
  });

  test('checkPolicy reports the findings of every rule, formatted one per line', () => {
    const tampered = withUserData(renderedInput(), 'cp-2', (c) => {
      c.ssh_pwauth = true;
      c.write_files.find((f: { path: string }) => f.path === '/etc/k8s-lab/kubeadm.yaml').permissions = '0644';
    });
    expect(formatFindings(checkPolicy(tampered)).split('\n')).toEqual([
      '[ssh-key-only] k8s-lab-cp-2: user-data ssh_pwauth must be false, got true',
      `[secrets-not-world-readable] k8s-lab-cp-2: user-data write_files /etc/k8s-lab/kubeadm.yaml holds a bootstrap token but has permissions "0644"; use '0600'`,
    ]);
  });

  test('one rule per file: policy/<id>.ts, each rule exported and listed once in POLICY_RULES', () => {
    const ids = POLICY_RULES.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    const exported = Object.values(policy).filter((v): v is policy.PolicyRule => typeof v === 'object' && v !== null && 'check' in v && 'id' in v);
    expect(exported.map((r) => r.id).sort()).toEqual([...ids].sort());
    for (const id of ids) expect(fs.existsSync(path.join(__dirname, '..', '..', '..', 'policy', `${id}.ts`))).toBe(true);
  });
});
