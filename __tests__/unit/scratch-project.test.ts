import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { scratchProjectCopy } from '../support/scratch-project';

describe('scratchProjectCopy', () => {
  let project: string;
  let copy: string | undefined;

  beforeEach(() => {
    // GIVEN a project with sources, outputs, secrets, a kubeconfig and Terraform state with its backup
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'scratch-source-'));
    const files = [
      'main.ts', 'constructs/node-vm.ts', '.gen/providers/libvirt/index.ts', 'package.json',
      'cdktf.out/stacks/k8s-lab/cdk.tf.json', 'dist/app.k8s.yaml', 'rendered/cp-1.yaml', '.secrets/k8s-lab/secrets.json',
      'cluster.yaml', 'k8s-lab.kubeconfig', 'terraform.k8s-lab.tfstate', 'terraform.k8s-lab.tfstate.backup',
      '.tools/env', '.git/HEAD', 'node_modules/yaml/package.json',
    ];
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(project, f)), { recursive: true });
      fs.writeFileSync(path.join(project, f), f);
    }
  });

  afterEach(() => {
    for (const dir of [project, copy]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('copies the sources and links node_modules, and leaves out outputs, secrets, kubeconfigs and state', () => {
    // WHEN a scratch copy is made
    copy = scratchProjectCopy('scratch-copy-', project);
    // THEN only the sources are there, and node_modules is the project's own
    const listed: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isSymbolicLink()) listed.push(`${path.relative(copy!, p)} -> ${fs.readlinkSync(p)}`);
        else if (e.isDirectory()) walk(p);
        else listed.push(path.relative(copy!, p));
      }
    };
    walk(copy);
    expect(listed.sort()).toEqual([
      '.gen/providers/libvirt/index.ts',
      'constructs/node-vm.ts',
      'main.ts',
      `node_modules -> ${path.join(project, 'node_modules')}`,
      'package.json',
    ]);
  });
});
