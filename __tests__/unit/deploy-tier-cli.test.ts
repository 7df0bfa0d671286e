import { errorLines, mustSucceed, terraformLogErrors } from '../deploy/support/cdktf-cli';

// A failed deploy can print its plan (user-data included) after the error, so the report leads with
// the error lines, wherever they stand in the output.
describe('a failed CLI run is reported with its error lines first', () => {
  const planTail = Array.from({ length: 400 }, (_, i) => `  content line ${i} of a long user-data`).join('\n');
  const output = `k8s-lab-ci  Error: error creating libvirt domain: example failure\n${planTail}\nInvoking Terraform CLI failed with exit code 1`;

  test('the error lines are found once each, trimmed', () => {
    // GIVEN an output with the same error printed twice and a long tail WHEN its error lines are taken
    // THEN each appears once
    expect(errorLines(`${output}\n  k8s-lab-ci  Error: error creating libvirt domain: example failure`)).toEqual(['k8s-lab-ci  Error: error creating libvirt domain: example failure']);
    expect(errorLines('Plan: 1 to add, 0 to change, 0 to destroy.')).toEqual([]);
  });

  test('mustSucceed names an error that lies outside the end of the output', () => {
    // GIVEN a failed run whose error is followed by more than the reported tail
    expect(output.length).toBeGreaterThan(6000);
    // WHEN it must have succeeded THEN the thrown message still carries the error line
    expect(() => mustSucceed({ status: 1, output, seconds: 1 }, 'cdktf deploy')).toThrow(/its error lines:\nk8s-lab-ci {2}Error: error creating libvirt domain: example failure\n/);
  });

  test('a run that exited 0 passes through', () => {
    const run = { status: 0, output: 'Apply complete!', seconds: 1 };
    expect(mustSucceed(run, 'cdktf deploy')).toBe(run);
  });
});

// cdktf can lose the end of `terraform apply`'s output (it runs it in a pseudo-terminal), so each run
// also reads Terraform's own ERROR log; its errors must be recognised like printed ones.
describe('errors from Terraform\'s log join the output', () => {
  // GIVEN the ERROR lines Terraform logged when a CI deploy failed (one resource, logged for the
  // resource and again for its expand node, between unrelated errors; this one was provider v0.8.3's
  // old ISO read-back fault, README "A fault of the provider")
  const log = [
    '2026-11-26T03:12:13.786Z [ERROR] provider: error encountered while scanning stdout: error="read |0: file already closed"',
    '2026-11-26T03:12:23.577Z [ERROR] vertex "libvirt_cloudinit_disk.Cluster_ControlPlane_Node1_CloudInit_230279CB" error: error while retrieving remote ISO: error initializing ISO reader: corrupted-image: EOF',
    '2026-11-26T03:12:23.577Z [ERROR] vertex "libvirt_cloudinit_disk.Cluster_ControlPlane_Node1_CloudInit_230279CB (expand)" error: error while retrieving remote ISO: error initializing ISO reader: corrupted-image: EOF',
  ].join('\n');

  test('each resource error is taken once, naming the resource', () => {
    // WHEN the log's errors are taken THEN there is one, for that resource, and no provider noise
    expect(terraformLogErrors(log)).toEqual([
      'Error: error while retrieving remote ISO: error initializing ISO reader: corrupted-image: EOF (libvirt_cloudinit_disk.Cluster_ControlPlane_Node1_CloudInit_230279CB, from Terraform\'s log)',
    ]);
  });

  test('an error only the log kept is reported first', () => {
    // GIVEN cdktf's output lost the error; the log's errors are appended to it
    const output = ['Invoking Terraform CLI failed with exit code 1', ...terraformLogErrors(log)].join('\n');
    // THEN the report leads with it
    expect(errorLines(output)).toEqual([terraformLogErrors(log)[0]]);
    expect(() => mustSucceed({ status: 1, output, seconds: 1 }, 'cdktf deploy')).toThrow(/its error lines:\nError: error while retrieving remote ISO/);
  });

  test('a log without resource errors adds nothing', () => {
    expect(terraformLogErrors('2026-11-26T03:11:15.006Z [ERROR] Checkpoint error: no such host\n')).toEqual([]);
  });
});
