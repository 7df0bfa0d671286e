import { sshKeyOnly } from '../../../policy';
import { LABELLED_SPEC } from '../../fixtures/bootstrap-helpers';
import { host, renderedInput, withFile, withUserData } from './policy-fixtures';

const input = renderedInput();

describe('ssh-key-only', () => {
  test.each([
    ['the default cluster', {}],
    ['a labelled pool with an SSH key', LABELLED_SPEC],
  ])('compliant: %s', (_name, doc) => {
    // GIVEN every node rendered by the bootstrap  WHEN checked  THEN no finding
    expect(sshKeyOnly.check(renderedInput(doc))).toEqual([]);
  });

  test('fails when a node allows SSH password login', () => {
    // GIVEN one worker with ssh_pwauth: true
    const tampered = withUserData(input, 'worker-general-1', (c) => (c.ssh_pwauth = true));
    // WHEN / THEN
    expect(sshKeyOnly.check(tampered)).toEqual([{ rule: 'ssh-key-only', node: host('worker-general-1'), message: 'user-data ssh_pwauth must be false, got true' }]);
  });

  test('fails when root login is not disabled (disable_root left out)', () => {
    const tampered = withUserData(input, 'lb-1', (c) => delete c.disable_root);
    expect(sshKeyOnly.check(tampered).map((f) => f.message)).toEqual(['user-data disable_root must be true, got undefined']);
  });

  test('fails when a user is not locked', () => {
    const tampered = withUserData(input, 'cp-1', (c) => (c.users[0].lock_passwd = false));
    expect(sshKeyOnly.check(tampered)).toEqual([expect.objectContaining({ node: host('cp-1'), message: 'user-data users[0].lock_passwd must be true, got false' })]);
  });

  test('fails when a user gets a password, or chpasswd sets one', () => {
    const tampered = withUserData(input, 'cp-2', (c) => {
      c.users[0].plain_text_passwd = 'hunter2';
      c.chpasswd = { expire: false, users: [{ name: 'ubuntu', password: 'x', type: 'text' }] };
    });
    expect(sshKeyOnly.check(tampered).map((f) => f.message)).toEqual([
      'user-data users[0].plain_text_passwd sets a password; use SSH keys (ssh.authorizedKeys) only',
      'user-data chpasswd sets a password; use SSH keys (ssh.authorizedKeys) only',
      'user-data chpasswd.users[0].password sets a password; use SSH keys (ssh.authorizedKeys) only',
    ]);
  });

  test('fails when a user is the bare string "default" (its lock cannot be checked)', () => {
    const tampered = withUserData(input, 'cp-3', (c) => c.users.unshift('default'));
    expect(sshKeyOnly.check(tampered).map((f) => f.message)).toEqual(['user-data users[0] must be a mapping with lock_passwd: true, got "default"']);
  });

  test('fails, rather than throws, when user-data is not cloud-config or a node has no files', () => {
    const notCloudConfig = withFile(input, 'cp-1', 'user-data', () => '#!/bin/sh\necho hi\n');
    const missing = withFile(input, 'cp-2', 'user-data', () => undefined);
    const noFiles = { ...input, files: Object.fromEntries(Object.entries(input.files).filter(([h]) => h !== host('lb-1'))) };
    expect(sshKeyOnly.check(notCloudConfig).map((f) => f.message)).toEqual(['user-data does not start with #cloud-config']);
    expect(sshKeyOnly.check(missing).map((f) => f.message)).toEqual(['user-data is missing']);
    expect(sshKeyOnly.check(noFiles)).toEqual([{ rule: 'ssh-key-only', node: host('lb-1'), message: 'no rendered files for this planned node' }]);
  });
});
