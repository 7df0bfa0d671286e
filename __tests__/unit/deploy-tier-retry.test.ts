import { errorLines, isoReadBackFault, mustSucceed, terraformLogErrors, unrecordedIsos } from '../deploy/support/cdktf-cli';

// The deploy tier runs a CLI command again only for provider v0.8.3's ISO read-back fault (a hang,
// or this exact error). Anything else must stay a failure, so the classifier must be narrow.
describe('the deploy tier recognises only the provider ISO read-back fault as retryable', () => {
  test('the truncated-ISO error printed by a CI run is recognised', () => {
    // GIVEN the error line cdktf printed when the streamed-back ISO lost its start
    const output = [
      'k8s-lab-ci  Error: error while retrieving remote ISO: error initializing ISO reader: corrupted-image: EOF',
      '  with libvirt_cloudinit_disk.Cluster_WorkerPool-ci_Node2_CloudInit_255D0F2B,',
    ].join('\n');
    // WHEN it is classified THEN it is the read-back fault
    expect(isoReadBackFault(output)).toBe(true);
  });

  test.each([
    ['a missing volume', 'Error: error while retrieving remote ISO: can\'t retrieve volume /pool/x.iso: Storage volume not found'],
    ['a plan with changes', 'Plan: 0 to add, 3 to change, 0 to destroy.'],
    ['a failed domain start', 'Error: error creating libvirt domain: internal error: process exited while connecting to monitor'],
    ['no output at all', ''],
  ])('%s is not retried', (_what, output) => {
    // GIVEN any other outcome WHEN it is classified THEN it is final
    expect(isoReadBackFault(output)).toBe(false);
  });
});

// After a deploy killed inside a create, the ISO volume exists but the state does not record it; the
// retry removes exactly those, and never an ISO Terraform manages or any other file of the pool.
describe('after a killed deploy, only the cloud-init ISOs the state does not record are removed', () => {
  const pool = '/pool';
  const files = ['/pool/c-cp-1-cloudinit.iso', '/pool/c-lb-1-cloudinit.iso', '/pool/c-cp-1.qcow2', '/pool/c-base.qcow2'];
  const state = (keys: string[]) =>
    JSON.stringify({
      version: 4,
      resources: [
        { type: 'libvirt_volume', instances: [{ attributes: { id: `${pool}/c-cp-1.qcow2` } }] },
        { type: 'libvirt_cloudinit_disk', instances: keys.map((k) => ({ attributes: { id: `${k};0b1c6f5e-1111-4222-8333-944455556666` } })) },
      ],
    });

  test('an ISO the state records is kept; the one the killed create left is removed', () => {
    // GIVEN a state that records cp-1's ISO (its ID is "<key>;<uuid>") but not lb-1's
    const stateJson = state(['/pool/c-cp-1-cloudinit.iso']);
    // WHEN the unrecorded ISOs are listed THEN only lb-1's is, and no disk
    expect(unrecordedIsos(stateJson, files)).toEqual(['/pool/c-lb-1-cloudinit.iso']);
  });

  test('with every ISO recorded nothing is removed', () => {
    expect(unrecordedIsos(state(['/pool/c-cp-1-cloudinit.iso', '/pool/c-lb-1-cloudinit.iso']), files)).toEqual([]);
  });

  test('with no state yet every ISO in the pool is unrecorded, and still no disk', () => {
    expect(unrecordedIsos(undefined, files)).toEqual(['/pool/c-cp-1-cloudinit.iso', '/pool/c-lb-1-cloudinit.iso']);
  });
});

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
  // GIVEN the ERROR lines Terraform logged when a CI deploy met the fault (one resource, logged for
  // the resource and again for its expand node, between unrelated errors)
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

  test('an error only the log kept is recognised as the fault and reported', () => {
    // GIVEN cdktf's output lost the error; the log's errors are appended to it
    const output = ['Invoking Terraform CLI failed with exit code 1', ...terraformLogErrors(log)].join('\n');
    // THEN the retry recognises it and the report leads with it
    expect(isoReadBackFault(output)).toBe(true);
    expect(errorLines(output)).toHaveLength(1);
  });

  test('a log without resource errors adds nothing', () => {
    expect(terraformLogErrors('2026-11-26T03:11:15.006Z [ERROR] Checkpoint error: no such host\n')).toEqual([]);
  });
});
