import { FileModeEntry, secretOutputFindings } from '../../../policy';

const file = (path: string, mode: number): FileModeEntry => ({ path, kind: 'file', mode });
const dir = (path: string, mode: number): FileModeEntry => ({ path, kind: 'directory', mode });

describe('secret-outputs-private', () => {
  test('compliant: files 0600 or 0400 in folders 0700 or 0500', () => {
    expect(secretOutputFindings([dir('cdktf.out', 0o700), file('cdktf.out/stacks/k8s-lab/cdk.tf.json', 0o600), file('k8s-lab.kubeconfig', 0o400), dir('.secrets/k8s-lab', 0o500)])).toEqual([]);
  });

  test('fails when the stack JSON is 0644 (cdktf and Node write that under the usual umask 022)', () => {
    expect(secretOutputFindings([file('cdktf.out/stacks/k8s-lab/cdk.tf.json', 0o644)])).toEqual([
      {
        rule: 'secret-outputs-private',
        file: 'cdktf.out/stacks/k8s-lab/cdk.tf.json',
        message: "file cdktf.out/stacks/k8s-lab/cdk.tf.json has mode 0644, so other users can read it; it must be 0600 (it holds or leads to the cluster's secrets)",
      },
    ]);
  });

  test('fails when a folder can be entered by others (0711, 0755) or a file is group-readable (0640)', () => {
    const findings = secretOutputFindings([dir('cdktf.out', 0o711), dir('cdktf.out/stacks', 0o755), file('terraform.k8s-lab.tfstate', 0o640), file('ok', 0o600)]);
    expect(findings.map((f) => f.file)).toEqual(['cdktf.out', 'cdktf.out/stacks', 'terraform.k8s-lab.tfstate']);
    expect(findings[0].message).toMatch(/^directory cdktf.out has mode 0711, so other users can enter it; it must be 0700/);
  });
});
