/**
 * The preflight's decisions, as pure functions over what the host reported: the fixtures are real
 * reports recorded by the deploy tier (__tests__/deploy/preflight.test.ts, PREFLIGHT_RECORD_FIXTURES=1)
 * on this machine's libvirtd, and variants of them changed in one place each.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  Finding,
  HostReport,
  VIRSH,
  formatFindings,
  key,
  ownedObjectsOf,
  parseNetworkXml,
  parseNodememstats,
  parseNodeinfo,
  parseQemuIdentity,
  parseRoutes,
  parseVolList,
  plannedObjects,
  preflightFindings,
} from '../../../preflight';
import { ClusterSpecInput, overlaps, parseClusterSpec, parseIpv4Network, planCluster } from '../../../spec';
import { Testing } from 'cdktf';
import { ClusterStack } from '../../../constructs';
import { FAKE_SECRETS, FAKE_SECRETS_WITH_ETCD } from '../../fixtures/fake-secrets';
import { TerraformJson, resources } from '../../support/synth';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'preflight');
// host-running-k8s-lab-ci.json: a clean-host report recorded while the deploy tier's k8s-lab-ci cluster
// (network 10.213.7.0/24 on virbr1, its pool and domains) was up; the cases about another cluster's
// objects and ownership use it, so re-recording the others on a quiet host does not change them.

interface Fixture {
  readonly spec: ClusterSpecInput;
  readonly report: HostReport;
}

function fixture(name: string): Fixture {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as Fixture;
}

/** The findings for `spec` on `report`. */
function findings(spec: ClusterSpecInput, report: HostReport): Finding[] {
  return preflightFindings(planCluster(parseClusterSpec(spec).spec), report);
}

const errors = (fs: Finding[]) => fs.filter((f) => f.severity === 'error');

/** A copy of `report` with some virsh answers replaced. */
function withVirsh(report: HostReport, answers: Record<string, { status: number; stdout: string; stderr?: string }>): HostReport {
  const extra = Object.fromEntries(Object.entries(answers).map(([k, a]) => [k, { stderr: '', ...a }]));
  return { ...report, virsh: { ...report.virsh, ...extra } };
}

describe('preflight decisions on reports recorded from the real libvirtd', () => {
  test('a clean host gives no error', () => {
    const { spec, report } = fixture('clean-host');
    expect(errors(findings(spec, report))).toEqual([]);
  });

  test('fails when another active libvirt network holds the CIDR, suggesting one that is free', () => {
    const { spec, report } = fixture('network-cidr-taken');
    const found = errors(findings(spec, report));
    expect(found).toEqual([
      expect.objectContaining({ field: 'network.cidr', value: '10.213.10.0/24', host: 'libvirt network k8s-lab-pf-other-net (active) has 10.213.10.0/24' }),
    ]);
    // THEN the suggested CIDR overlaps nothing the host has, nor the pod and service networks
    const suggested = /e\.g\. (\S+),/.exec(found[0].fix)![1];
    const busy = ['10.213.10.0/24', '10.213.7.0/24', '192.168.122.0/24', '192.0.2.0/24', '10.244.0.0/16', '10.96.0.0/12'];
    for (const b of busy) expect(overlaps(parseIpv4Network(suggested)!, parseIpv4Network(b)!)).toBe(false);
  });

  test('warns, without failing, when the network holding the CIDR is inactive (the two cannot run at once)', () => {
    const { spec, report } = fixture('network-cidr-taken');
    const inactive = withVirsh(report, { [key(VIRSH.activeNetworks)]: { status: 0, stdout: 'k8s-lab-ci-net\n' } });
    const found = findings(spec, inactive).filter((f) => f.field === 'network.cidr');
    expect(found).toEqual([expect.objectContaining({ severity: 'warning', host: 'libvirt network k8s-lab-pf-other-net (inactive: the two cannot run at once) has 10.213.10.0/24' })]);
  });

  test("fails on another cluster's network once, not again for that network's own host route", () => {
    // GIVEN the recorded host, where k8s-lab-ci-net (10.213.7.0/24) runs with its route on virbr1
    const { spec, report } = fixture('host-running-k8s-lab-ci');
    const found = errors(findings({ ...spec, network: { cidr: '10.213.7.0/24' } }, report));
    expect(found.map((f) => f.host)).toEqual(['libvirt network k8s-lab-ci-net (active) has 10.213.7.0/24']);
  });

  test('fails when a host route covers the CIDR', () => {
    const { spec, report } = fixture('clean-host');
    const routed: HostReport = { ...report, routes: { ...report.routes!, stdout: `${report.routes!.stdout}10.213.0.0/16 via 192.0.2.1 dev eth0 \n` } };
    expect(errors(findings(spec, routed))).toEqual([
      expect.objectContaining({ field: 'network.cidr', value: '10.213.9.0/24', host: 'a host route covers it: 10.213.0.0/16 via 192.0.2.1 dev eth0' }),
    ]);
  });

  test('fails when the pool path is on a file system too small for every disk at full size', () => {
    const { spec, report } = fixture('pool-path-small');
    expect(errors(findings(spec, report))).toEqual([expect.objectContaining({ field: 'libvirt.poolPath', host: expect.stringMatching(/has 0\.1 GiB free; the plan needs 10\.0 GiB \(2 disks at full size \+ the base image \+ cloud-init ISOs\)$/) })]);
  });

  test('fails when one VM needs more memory than the host has, naming the role', () => {
    const { spec, report } = fixture('memory-exceeds-host');
    expect(errors(findings(spec, report))).toEqual([expect.objectContaining({ field: 'controlPlane.memoryMiB', value: '262144', host: expect.stringMatching(/^\d+ MiB of memory in all \(virsh nodememstats\)$/) })]);
  });

  test('fails when QEMU, running as libvirt\'s DAC user, could not enter a directory above the pool', () => {
    const { spec, report } = fixture('pool-parent-not-searchable');
    expect(errors(findings(spec, report))).toEqual([
      expect.objectContaining({ field: 'libvirt.poolPath', host: expect.stringMatching(/^QEMU runs as uid \d+, gid \d+ \(libvirt's DAC label, virsh capabilities\) and may not enter \S+\/private \(mode 0700, owner 0:0\)/) }),
    ]);
    // AND once that directory lets others through, nothing is left to say
    const opened: HostReport = { ...report, poolPath: { ...report.poolPath!, ancestors: report.poolPath!.ancestors!.map((a) => ({ ...a, mode: a.mode | 0o001 })) } };
    expect(errors(findings(spec, opened))).toEqual([]);
  });

  test('fails when the VMs together need more memory than the host has, with the sum per role', () => {
    const { spec, report } = fixture('host-running-k8s-lab-ci');
    const found = errors(findings({ ...spec, workerPools: [{ name: 'big', count: 3, memoryMiB: 10240, diskGiB: 5 }] }, report));
    expect(found).toEqual([expect.objectContaining({ field: 'loadBalancer, controlPlane, workerPools[0] (memoryMiB × count)', value: '1 × 512 (loadBalancer) + 1 × 1700 (controlPlane) + 3 × 10240 (workerPools[0]) = 32932 MiB' })]);
  });

  test('fails when the base image does not exist', () => {
    const { spec, report } = fixture('base-image-missing');
    expect(errors(findings(spec, report))).toEqual([expect.objectContaining({ field: 'image.source', host: expect.stringMatching(/^no such file on this machine/) })]);
  });

  test('fails when a domain with a planned name exists that the state does not own; passes once the state owns it', () => {
    const left = fixture('leftover-domain');
    expect(errors(findings(left.spec, left.report))).toEqual([
      expect.objectContaining({ field: 'name', value: 'k8s-lab-pf', fix: 'remove it if it is a leftover: virsh -c qemu:///system undefine k8s-lab-pf-cp-1 — or choose another name' }),
    ]);
    const owned = fixture('leftover-domain-owned');
    expect(owned.report.state.owned).toHaveLength(1);
    expect(errors(findings(owned.spec, owned.report))).toEqual([]);
  });

  test('fails when the state owns a domain of that name but not that one (another UUID)', () => {
    const owned = fixture('leftover-domain-owned');
    const other: HostReport = { ...owned.report, state: { ...owned.report.state, owned: [{ ...owned.report.state.owned[0], id: '00000000-0000-0000-0000-000000000000' }] } };
    expect(errors(findings(owned.spec, other)).map((f) => f.host)).toEqual([expect.stringMatching(/^domain k8s-lab-pf-cp-1 already exists \(shut off\)/)]);
  });

  test("this cluster's own network and pool from an earlier deploy are fine; volumes in its pool the state does not own are not", () => {
    // GIVEN the recorded host, where k8s-lab-ci's network and pool exist, and a spec of that cluster
    const { spec, report } = fixture('host-running-k8s-lab-ci');
    const ci = { ...spec, name: 'k8s-lab-ci', network: { cidr: '10.213.7.0/24' }, libvirt: { ...spec.libvirt, poolPath: '/work/wt-14/.tools/deploy-tier/pool' } };
    const net = parseNetworkXml('k8s-lab-ci-net', report.virsh[key(VIRSH.netDumpxml('k8s-lab-ci-net'))].stdout);
    const poolUuid = /<uuid>([^<]+)</.exec(report.virsh[key(VIRSH.poolDumpxml('k8s-lab-ci'))].stdout)![1];
    const volumes = fs.readFileSync(path.join(FIXTURES, 'vol-list-details.txt'), 'utf8');
    // (the recorded host ran k8s-lab-ci's domains; their UUIDs here are made up, and the state below owns them)
    const domainUuids = { 'k8s-lab-ci-lb-1': '11111111-1111-4111-8111-111111111111', 'k8s-lab-ci-cp-1': '22222222-2222-4222-8222-222222222222' };
    const withVolumes = withVirsh(report, {
      [key(VIRSH.volList('k8s-lab-ci'))]: { status: 0, stdout: volumes },
      ...Object.fromEntries(Object.entries(domainUuids).map(([d, u]) => [key(VIRSH.domuuid(d)), { status: 0, stdout: `${u}\n` }])),
    });
    // WHEN the state owns the network, the pool, the domains, and every volume but one ISO
    const vols = parseVolList(volumes);
    const state = {
      file: 'terraform.k8s-lab-ci.tfstate',
      exists: true,
      owned: [
        { type: 'libvirt_network', name: 'k8s-lab-ci-net', id: net.uuid! },
        { type: 'libvirt_pool', name: 'k8s-lab-ci', id: poolUuid },
        ...Object.entries(domainUuids).map(([name, id]) => ({ type: 'libvirt_domain', name, id })),
        ...vols.filter((v) => !v.name.startsWith('k8s-lab-ci-lb-1-seed')).map((v) => ({ type: 'libvirt_volume', name: v.name, id: v.path })),
      ],
    };
    const found = errors(findings(ci, { ...withVolumes, state }));
    // THEN only that ISO is reported, with how to remove it
    expect(found).toEqual([expect.objectContaining({ field: 'name', fix: 'remove it: virsh -c qemu:///system vol-delete --pool k8s-lab-ci k8s-lab-ci-lb-1-seed-852b7060fd03.iso' })]);
    // AND without a state, the network (name and CIDR) and the pool are reported as not this cluster's
    const stateless = errors(findings(ci, withVolumes)).map((f) => f.host);
    expect(stateless).toEqual([
      expect.stringMatching(/^libvirt network k8s-lab-ci-net already exists \(active, 10\.213\.7\.0\/24\), and \S+ does not own it$/),
      'libvirt network k8s-lab-ci-net (active) has 10.213.7.0/24',
      expect.stringMatching(/^storage pool k8s-lab-ci already exists \(active, at \/work\/wt-14\/\.tools\/deploy-tier\/pool\)/),
      expect.stringMatching(/^domain k8s-lab-ci-lb-1 already exists \(running\)/),
      expect.stringMatching(/^domain k8s-lab-ci-cp-1 already exists \(running\)/),
    ]);
  });

  test('fails when another pool already uses the pool path', () => {
    const { spec, report } = fixture('host-running-k8s-lab-ci');
    const found = errors(findings({ ...spec, libvirt: { ...spec.libvirt, poolPath: '/work/wt-14/.tools/deploy-tier/pool/' } }, report));
    expect(found).toEqual([expect.objectContaining({ field: 'libvirt.poolPath', host: 'storage pool k8s-lab-ci already uses that directory (libvirt allows one pool per path)' })]);
  });

  test('fails when kvm is not offered, saying that qemu emulates about 10× slower', () => {
    const { spec, report } = fixture('clean-host');
    const noKvm = withVirsh(report, {
      [key(VIRSH.domcapabilities('kvm'))]: { status: 1, stdout: '', stderr: "error: failed to get emulator capabilities\nerror: invalid argument: Emulator '/usr/bin/qemu-system-x86_64' does not support virt type 'kvm'\n" },
    });
    const found = errors(findings({ ...spec, libvirt: { ...spec.libvirt, domainType: 'kvm' as never } }, noKvm));
    expect(found).toEqual([
      expect.objectContaining({ field: 'libvirt.domainType', value: 'kvm', host: expect.stringMatching(/does not support virt type 'kvm'$/), fix: expect.stringMatching(/^set libvirt\.domainType: qemu — it runs the cluster under emulation, about 10× slower/) }),
    ]);
  });

  test('fails with one finding on libvirt.uri when libvirt does not answer, and still reports the image', () => {
    const { spec, report } = fixture('libvirt-not-answering');
    expect(errors(findings(spec, report)).map((f) => `${f.field}: ${f.host}`)).toEqual([
      expect.stringMatching(/^image\.source: no such file/),
      "libvirt.uri: libvirt does not answer: error: Failed to connect socket to '/nonexistent/k8s-lab-pf.sock': No such file or directory",
    ]);
  });

  test("fails when the connection offers no domain type (libvirt's test driver)", () => {
    const { spec, report } = fixture('domain-type-not-offered');
    expect(errors(findings(spec, report))).toEqual([
      expect.objectContaining({ field: 'libvirt.domainType', value: 'qemu', fix: expect.stringMatching(/^install QEMU on the host/) }),
    ]);
  });

  test('fails when a host route covers the CIDR (recorded in a network namespace)', () => {
    const { spec, report } = fixture('host-route-covers-cidr');
    expect(errors(findings(spec, report))).toEqual([
      expect.objectContaining({ field: 'network.cidr', value: '10.213.12.0/24', host: expect.stringMatching(/^a host route covers it: 10\.213\.12\.0\/24 dev k8s-lab-pf-a /) }),
    ]);
  });

  test('fails when a network and a pool with the planned names exist that the state does not own', () => {
    const { spec, report } = fixture('leftover-network-and-pool');
    expect(errors(findings(spec, report)).map((f) => f.host)).toEqual([
      expect.stringMatching(/^libvirt network k8s-lab-pf-net already exists \(inactive, 10\.213\.11\.0\/24\)/),
      expect.stringMatching(/^storage pool k8s-lab-pf already exists \(inactive, at /),
    ]);
  });

  test('warns, without failing, when an image URL does not answer a HEAD request', () => {
    const { spec, report } = fixture('clean-host');
    const url = 'https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img';
    const found = findings({ ...spec, image: { source: url } }, { ...report, image: { kind: 'url', url, error: 'ENOTFOUND' } });
    expect(errors(found)).toEqual([]);
    expect(found).toContainEqual(expect.objectContaining({ severity: 'warning', field: 'image.source', host: 'a HEAD request did not reach it (ENOTFOUND); the provider downloads it during the deploy' }));
  });

  test('fails when the base image is not a qcow2, saying how to convert it', () => {
    const { spec, report } = fixture('clean-host');
    const raw: HostReport = { ...report, image: { ...(report.image as Extract<HostReport['image'], { kind: 'path' }>), qcow2: false } };
    expect(errors(findings(spec, raw))).toEqual([expect.objectContaining({ field: 'image.source', fix: expect.stringMatching(/^convert it: qemu-img convert -O qcow2 /) })]);
  });

  test('for a remote URI, says which host facts it could not check instead of reading this machine', () => {
    const { spec, report } = fixture('host-running-k8s-lab-ci');
    const remote: HostReport = { ...report, uri: 'qemu+ssh://me@far.example/system', local: false, routes: undefined, poolPath: undefined };
    const found = findings({ ...spec, libvirt: { ...spec.libvirt, uri: 'qemu+ssh://me@far.example/system', poolPath: '/srv/k8s-lab-pf' } }, remote);
    expect(errors(found)).toEqual([]);
    expect(found.filter((f) => f.severity === 'warning').map((f) => f.field)).toEqual(expect.arrayContaining(['network.cidr', 'libvirt.poolPath']));
    // AND a pool of that host in a parent directory gives the free space
    const under = findings({ ...spec, libvirt: { ...spec.libvirt, uri: 'qemu+ssh://me@far.example/system', poolPath: '/work/wt-14/.tools/deploy-tier/pool/sub' } }, remote);
    expect(under.filter((f) => f.field === 'libvirt.poolPath')).toEqual([]);
  });

  test('the same report gives the same findings, printed errors first with field, host and fix', () => {
    const { spec, report } = fixture('memory-exceeds-host');
    const plan = planCluster(parseClusterSpec(spec).spec);
    expect(preflightFindings(plan, report)).toEqual(preflightFindings(plan, report));
    const text = formatFindings(plan, preflightFindings(plan, report));
    expect(text.split('\n')[0]).toBe('preflight of cluster k8s-lab-pf at qemu:///system: 1 error(s), 1 warning(s)');
    expect(text).toMatch(/^ {2}ERROR controlPlane\.memoryMiB: 262144\n {6}host: .*\n {6}fix: {2}set controlPlane\.memoryMiB below \d+\n {2}WARNING /m);
  });
});

describe('a deployed cluster\'s base image', () => {
  /** The clean host's report, with a state that owns the base image made from `source`. */
  function deployedFrom(source: string): { spec: ClusterSpecInput; report: HostReport; base: string } {
    const { spec, report } = fixture('clean-host');
    const base = plannedObjects(planCluster(parseClusterSpec(spec).spec)).baseVolume;
    const state = { file: 'terraform.x.tfstate', exists: true, owned: [{ type: 'libvirt_volume', name: base, id: `/pool/${base}`, source }] };
    return { spec, report: { ...report, state }, base };
  }

  test('fails when image.source is not what the deployed base image was made from: every root disk would go with it', () => {
    // GIVEN a state whose base image came from another source than the spec's
    const { spec, report, base } = deployedFrom('https://images.example.com/old.img');
    // WHEN the preflight decides THEN one error names the field, both sources, the loss and the ways out
    expect(errors(findings(spec, report)).filter((f) => f.field === 'image.source')).toEqual([
      {
        severity: 'error',
        field: 'image.source',
        value: parseClusterSpec(spec).spec.image.source,
        host: `terraform.x.tfstate records the base image ${base} as made from https://images.example.com/old.img; a new source replaces it, and with it every node's root disk (each is a layer on it): the cluster, etcd's data and every workload would be lost`,
        fix: 'set image.source back to https://images.example.com/old.img; or, to start the cluster over from the new image, npm run destroy first',
      },
    ]);
  });

  test('passes when the source is the deployed one', () => {
    const { spec } = fixture('clean-host');
    const { report } = deployedFrom(parseClusterSpec(spec).spec.image.source);
    expect(errors(findings(spec, report)).filter((f) => f.field === 'image.source')).toEqual([]);
  });
});

describe('reading the Terraform state', () => {
  test('the empty state file synth creates owns nothing and is no error', () => {
    expect(ownedObjectsOf('')).toEqual([]);
    expect(ownedObjectsOf('\n')).toEqual([]);
  });
  test('a state cut short is an error (the preflight then warns that it could not be read)', () => {
    expect(() => ownedObjectsOf('{"version": 4, "resources": [')).toThrow(SyntaxError);
  });
  test('a state owns its managed libvirt objects with an id and a name, and nothing else', () => {
    const state = {
      version: 4,
      resources: [
        { mode: 'managed', type: 'libvirt_domain', instances: [{ attributes: { id: 'uuid-1', name: 'k8s-lab-cp-1' } }] },
        { mode: 'data', type: 'libvirt_network', instances: [{ attributes: { id: 'n', name: 'default' } }] },
        { mode: 'managed', type: 'local_file', instances: [{ attributes: { id: 'f', name: 'x' } }] },
      ],
    };
    expect(ownedObjectsOf(JSON.stringify(state))).toEqual([{ type: 'libvirt_domain', name: 'k8s-lab-cp-1', id: 'uuid-1' }]);
  });
  test('a volume keeps what it was made from (its source), which nothing else in the state is kept for', () => {
    const state = { version: 4, resources: [{ mode: 'managed', type: 'libvirt_volume', instances: [{ attributes: { id: '/p/base.qcow2', name: 'base.qcow2', source: 'https://x/y.img', xml: [] } }] }] };
    expect(ownedObjectsOf(JSON.stringify(state))).toEqual([{ type: 'libvirt_volume', name: 'base.qcow2', id: '/p/base.qcow2', source: 'https://x/y.img' }]);
  });
});

describe('parsing real virsh output', () => {
  const { report } = fixture('host-running-k8s-lab-ci');
  const out = (args: readonly string[]) => report.virsh[key(args)].stdout;

  test("libvirt's default network, given with a netmask, is 192.168.122.0/24 on virbr0", () => {
    expect(parseNetworkXml('default', out(VIRSH.netDumpxml('default')))).toMatchObject({ name: 'default', bridge: 'virbr0', cidrs: ['192.168.122.0/24'] });
  });

  test("capabilities give the uid and gid libvirt's DAC driver runs QEMU as", () => {
    const { report: recorded } = fixture('clean-host');
    expect(parseQemuIdentity(recorded.virsh[key(VIRSH.capabilities)].stdout, 'qemu')).toEqual({ uid: expect.any(Number), gid: expect.any(Number) });
    expect(parseQemuIdentity("<baselabel type='kvm'>+64055:+994</baselabel>", 'kvm')).toEqual({ uid: 64055, gid: 994 });
  });

  test('nodeinfo and nodememstats give CPUs and memory', () => {
    expect(parseNodeinfo(out(VIRSH.nodeinfo)).cpus).toBeGreaterThan(0);
    const mem = parseNodememstats(out(VIRSH.nodememstats));
    expect(mem.totalKiB).toBeGreaterThan(mem.availableKiB!);
  });

  test('routes: the default route is skipped, a kernel route keeps its device', () => {
    expect(parseRoutes(report.routes!.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ destination: '10.213.7.0/24', dev: 'virbr1' })]));
    expect(parseRoutes(report.routes!.stdout).map((r) => r.destination)).not.toContain('default');
  });

  test('vol-list --details gives name, path, capacity and allocation in bytes', () => {
    const vols = parseVolList(fs.readFileSync(path.join(FIXTURES, 'vol-list-details.txt'), 'utf8'));
    expect(vols).toHaveLength(7);
    expect(vols).toContainEqual({ name: 'k8s-lab-ci-cp-1.qcow2', path: '/work/wt-14/.tools/deploy-tier/pool/k8s-lab-ci-cp-1.qcow2', capacityBytes: 5 * 1024 ** 3, allocationBytes: 200 * 1024 });
  });
});

describe('the objects the preflight looks for are the ones the constructs make', () => {
  test.each<[string, ClusterSpecInput]>([
    ['the default cluster', {}],
    ['external etcd, two load balancers and two pools', { etcd: { topology: 'external' as never, count: 3 }, loadBalancer: { count: 2, virtualIp: '192.168.150.2' }, workerPools: [{ name: 'a', count: 1 }, { name: 'b', count: 2 }] }],
  ])('%s', (_name, doc) => {
    // GIVEN the synthesized stack  THEN every libvirt object it names is one the preflight plans for
    const { spec } = parseClusterSpec(doc);
    const stack = new ClusterStack(Testing.app(), { spec, secrets: spec.etcd.topology === 'external' ? FAKE_SECRETS_WITH_ETCD : FAKE_SECRETS });
    const tf = JSON.parse(Testing.synth(stack)) as TerraformJson;
    const planned = plannedObjects(planCluster(spec));
    const names = (type: string) => Object.values(resources(tf, type)).map((r) => r.name as string);
    expect(names('libvirt_network')).toEqual([planned.network]);
    expect(names('libvirt_pool')).toEqual([planned.pool.name]);
    expect(Object.values(resources(tf, 'libvirt_pool')).map((r) => (r.target as { path: string }).path)).toEqual([planned.pool.path]);
    expect(names('libvirt_domain').sort()).toEqual([...planned.domains].sort());
    // No bridge is named: libvirt picks a free virbrN, so there is no bridge name to find taken.
    expect(Object.values(resources(tf, 'libvirt_network')).map((r) => r.bridge)).toEqual([undefined]);
    for (const volume of [...names('libvirt_volume'), ...names('libvirt_cloudinit_disk')]) {
      const known = volume === planned.baseVolume || planned.nodeVolumePrefixes.some((p) => volume.startsWith(p));
      expect({ volume, known }).toEqual({ volume, known: true });
    }
    const sizes = Object.fromEntries(Object.values(resources(tf, 'libvirt_volume')).filter((r) => r.size !== undefined).map((r) => [r.name as string, r.size]));
    expect(sizes).toEqual(Object.fromEntries(planned.disks.map((d) => [d.name, d.sizeBytes])));
  });
});
