import { PAUSE_VERSION_BY_MINOR, bootstrapRunner, containerdConfig, kubernetesAptRepository, pauseImageFor } from '../../bootstrap';
import { shellQuote } from '../../bootstrap/private/shell';
import { SUPPORTED_KUBERNETES_MINORS } from '../../spec';

describe('pauseImageFor', () => {
  test.each([
    ['1.34.4', 'registry.k8s.io/pause:3.10.1'],
    ['1.35.4', 'registry.k8s.io/pause:3.10.1'],
    ['1.36.3', 'registry.k8s.io/pause:3.10.2'],
    ['1.37.2', 'registry.k8s.io/pause:3.10.2'],
  ])('%s uses %s (kubeadm constants PauseVersion)', (version, image) => {
    expect(pauseImageFor(version)).toBe(image);
  });
  test('every minor the spec accepts has a pause version', () => {
    for (let m = SUPPORTED_KUBERNETES_MINORS.min; m <= SUPPORTED_KUBERNETES_MINORS.max; m++) expect(PAUSE_VERSION_BY_MINOR[m]).toBeDefined();
  });
  test('fails when the minor is unknown, naming what is known', () => {
    expect(() => pauseImageFor('1.40.0')).toThrow(/kubernetes\.version 1\.40\.0: no pause image known for 1\.40 \(known: 1\.34, 1\.35, 1\.36, 1\.37\)/);
  });
  test('fails when the version is not MAJOR.MINOR.PATCH', () => {
    expect(() => pauseImageFor('v1.36')).toThrow(/kubernetes\.version must be MAJOR\.MINOR\.PATCH/);
  });
});

describe('kubernetesAptRepository', () => {
  test('is the minor line of pkgs.k8s.io', () => {
    expect(kubernetesAptRepository('1.36.3')).toBe('https://pkgs.k8s.io/core:/stable:/v1.36/deb/');
  });
});

describe('containerdConfig', () => {
  test('config version 2, runc with systemd cgroups, explicit CNI directories', () => {
    const lines = containerdConfig('1.36.3');
    expect(lines).toContain('version = 2');
    expect(lines).toContain('  SystemdCgroup = true');
    expect(lines).toContain('  bin_dir = "/opt/cni/bin"');
    expect(lines).toContain('  runtime_type = "io.containerd.runc.v2"');
  });
});

describe('shellQuote', () => {
  test.each([
    ['plain/path-1.2', 'plain/path-1.2'],
    ['1.36.3-*', "'1.36.3-*'"],
    ["it's", "'it'\\''s'"],
    ['$(reboot)', "'$(reboot)'"],
    ['', "''"],
  ])('%j -> %s', (value, quoted) => {
    expect(shellQuote(value)).toBe(quoted);
  });
});

describe('bootstrapRunner', () => {
  test('fails when a step name is not lowercase words', () => {
    expect(() => bootstrapRunner(['ok', 'rm -rf'])).toThrow(/bootstrap step names must be lowercase words joined by "-", got "rm -rf"/);
  });
});
