import * as YAML from 'yaml';
import { bootstrapRunner, stepScriptPath } from '../../bootstrap';
import { VM_PATHS } from '../../bootstrap/private/vm-paths';
import { FakeNode, stepNodeInput } from '../support/fake-node';

// The runner that cloud-init's runcmd calls, run for real by bash on a fake node (__tests__/support/fake-node.ts)
// with steps written here: one that works, one that fails after printing, one that must then never run. A check
// script (this test's own, not rendered) runs the runner and then says whether the done marker exists, since the
// fake node's /var is thrown away with its namespace.

const CHECK = '/usr/local/sbin/k8s-lab-test-check.sh';

/** What each step script does, as bash lines. */
type Steps = Record<string, readonly string[]>;

const nodes: FakeNode[] = [];
afterAll(() => nodes.forEach((n) => n.remove()));

function runRunner(steps: Steps) {
  const file = (path: string, lines: readonly string[]) => ({ path, permissions: '0755', content: ['#!/bin/bash', ...lines, ''].join('\n') });
  const userData = `#cloud-config\n${YAML.stringify({
    write_files: [
      { path: VM_PATHS.runner, permissions: '0755', content: bootstrapRunner(Object.keys(steps)) },
      ...Object.entries(steps).map(([name, lines]) => file(stepScriptPath(name), lines)),
      file(CHECK, [
        `${VM_PATHS.runner}`,
        'status=$?',
        `if [[ -e ${VM_PATHS.doneMarker} ]]; then echo "marker: present"; else echo "marker: absent"; fi`,
        'exit "${status}"',
      ]),
    ],
  })}`;
  const node = new FakeNode(stepNodeInput(userData, CHECK));
  nodes.push(node);
  return node.run();
}

describe('the bootstrap runner, run against a fake node', () => {
  test('runs every step in order, prefixes each line with its step, exits 0 and leaves the done marker', () => {
    // GIVEN two steps that work
    const run = runRunner({ first: ['echo "hello from first"'], second: ['echo "hello from second"'] });
    // THEN
    expect(run.status).toBe(0);
    expect(run.stdout.split('\n').filter((l) => l !== '')).toEqual([
      '[k8s-lab] step first: start',
      '[k8s-lab first] hello from first',
      '[k8s-lab] step first: done',
      '[k8s-lab] step second: start',
      '[k8s-lab second] hello from second',
      '[k8s-lab] step second: done',
      '[k8s-lab] bootstrap complete',
      'marker: present',
    ]);
  });

  test('stops at a failing step (its output prefixed and kept), exits 1, runs no later step and leaves no done marker', () => {
    // GIVEN a step that prints and then fails, before one that must not run
    const run = runRunner({ first: ['echo ok'], second: ['echo "about to fail"', 'exit 3'], third: ['echo "third ran"'] });
    // THEN
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('[k8s-lab second] about to fail');
    expect(run.stderr).toContain(`[k8s-lab] step second: FAILED (see the lines above); fix, then re-run: sudo ${VM_PATHS.runner}`);
    expect(run.stdout).not.toContain('third');
    expect(run.stdout).not.toContain('bootstrap complete');
    expect(run.stdout).toContain('marker: absent');
  });
});
