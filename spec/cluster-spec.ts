import * as path from 'path';
import type * as Sshpk from 'sshpk';
import { z } from 'zod';
import { addressAt, isIpv4, offsetOf, overlaps, parseIpv4Network } from './ipv4';
import {
  DNS1123_LABEL_RULE,
  LABEL_KEY_RULE,
  LABEL_VALUE_RULE,
  NODE_LABEL_RULE,
  TAINT_EFFECTS,
  isDns1123Label,
  isDns1123Subdomain,
  isLabelKey,
  isLabelValue,
  isSelfAssignableNodeLabel,
} from './kubernetes-names';
import { LIBVIRT_URI_RULE, parseLibvirtUri } from './libvirt-uri';
import { ADDRESS_PLAN, MAX_CONTROL_PLANE_NODES, MAX_ETCD_NODES, MAX_LOAD_BALANCERS, POOL_LABEL_KEY } from './address-plan';

/**
 * The cluster spec: one typed description from which the VMs, their bootstrap and the workload
 * manifests are all built. Every field but a worker pool's `name` has a default, so the empty
 * document `{}` is the embedded default cluster. Unknown keys are errors.
 */

/** The eviction signals kubelet's `evictionHard` takes (kubelet's eviction API). */
export const KUBELET_EVICTION_SIGNALS = ['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree', 'containerfs.available', 'containerfs.inodesFree', 'pid.available'] as const;

/**
 * The Kubernetes release the default cluster runs (see README "Kubernetes version"); kubeadm is
 * built at this release (tools/kubeadm/go.mod, a unit test keeps the two equal).
 *
 * Why 1.36.3: kubernetes/kubeadm#3294 (from 1.34.2 `kubeadm init` can fail at upload-config while
 * controlPlaneEndpoint is a load balancer with no healthy backend yet — exactly our first control
 * plane behind HAProxy) is fixed by "use the localAPIEndpoint for all API calls in init". Read in the
 * k8s.io/kubernetes module sources: in v1.36.1, v1.36.3 and v1.37.2, cmd/kubeadm/app/cmd/init.go
 * `(*initData).KubeConfig()` calls `kubeconfigutil.PointKubeConfigToLocalAPIEndpoint` (defined in
 * cmd/kubeadm/app/util/kubeconfig/kubeconfig.go) and `(*initData).Client()` passes
 * `&d.Cfg().LocalAPIEndpoint` to `EnsureAdminClusterRoleBinding` (cmd/kubeadm/app/phases/kubeconfig),
 * so every API call of init, upload-config included, goes to the local kube-apiserver. v1.34.0–v1.34.4
 * and v1.35.4 lack both (their Client() talks to admin.conf's controlPlaneEndpoint). 1.36.3 is the
 * newest 1.36.x the Go module proxy serves.
 */
export const DEFAULT_KUBERNETES_VERSION = '1.36.3';
/**
 * The minor releases a spec may ask for: the lines whose kubeadm has the #3294 fix (see above), and
 * that the kubeadm built here validates configs for (1.36's kubeadm refuses control planes < 1.35).
 */
export const SUPPORTED_KUBERNETES_MINORS = { min: 36, max: 37 } as const;
/** The default base image: Ubuntu 24.04 LTS cloud image. */
export const DEFAULT_IMAGE_SOURCE = 'https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img';

/** The CNI plugins the bootstrap knows how to install. */
export enum Cni {
  CALICO = 'calico',
  FLANNEL = 'flannel',
}

/**
 * The CNIs whose images and manifest the k8s-lab node image carries (image.prebaked): flannel only; calico's images
 * cannot be built from the Go module proxy.
 */
export const BAKED_CNIS: readonly Cni[] = [Cni.FLANNEL];

/**
 * A kubeadm preflight check name as `--ignore-preflight-errors` takes it: SystemVerification, NumCPU, Swap, Port-6443,
 * FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml, or `all`.
 */
export const PREFLIGHT_CHECK_NAME = /^[A-Za-z][A-Za-z0-9._-]*$/;

/** Where etcd runs: on every control plane (kubeadm's default), or on hosts of its own. */
export enum EtcdTopology {
  STACKED = 'stacked',
  EXTERNAL = 'external',
}

/** How libvirt runs the VMs: hardware-accelerated, or emulated where /dev/kvm is missing. */
export enum DomainType {
  KVM = 'kvm',
  QEMU = 'qemu',
}

/** What a local path must be, for error messages. */
export const ABSOLUTE_PATH_RULE = 'an absolute local path (starting with /, no control characters)';

/** Is `p` an absolute path with no control characters (a newline or NUL in a path is a typo, not a name)? */
export function isAbsolutePath(p: string): boolean {
  return p.startsWith('/') && !/[\x00-\x1f\x7f]/.test(p);
}

/** Is `s` an http(s) URL with a host, that the provider (and `curl`) can fetch as written? */
export function isHttpUrl(s: string): boolean {
  if (!/^https?:\/\/[\x21-\x7e]+$/.test(s)) return false;
  try {
    const url = new URL(s);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const dns1123Label = z.string().refine(isDns1123Label, { error: `must be ${DNS1123_LABEL_RULE}` });

/** vCPU/memory/disk of one VM role; `min` are the floors allowed for that role. */
const vmSize = (d: { vcpu: number; memoryMiB: number; diskGiB: number }, min: { vcpu: number; memoryMiB: number; why: string }) => ({
  vcpu: z.int().min(min.vcpu, { error: `must be at least ${min.vcpu}${min.why}` }).max(64, { error: 'must be at most 64' }).default(d.vcpu),
  memoryMiB: z.int().min(min.memoryMiB, { error: `must be at least ${min.memoryMiB}${min.why}` }).max(262144, { error: 'must be at most 262144' }).default(d.memoryMiB),
  diskGiB: z.int().min(5, { error: 'must be at least 5 (the cloud image itself needs ~3)' }).max(2048, { error: 'must be at most 2048' }).default(d.diskGiB),
});

const nodeLabels = z
  .record(
    z.string().refine(isLabelKey, { error: `must be ${LABEL_KEY_RULE}` }).refine(isSelfAssignableNodeLabel, { error: `must be ${NODE_LABEL_RULE}` }),
    z.string().refine(isLabelValue, { error: `must be ${LABEL_VALUE_RULE}` }),
  )
  .default({});

const taint = z.strictObject({
  /** Taint key, label-key syntax. */
  key: z.string().refine(isLabelKey, { error: `must be ${LABEL_KEY_RULE}` }),
  /** Taint value, label-value syntax. @default '' */
  value: z.string().refine(isLabelValue, { error: `must be ${LABEL_VALUE_RULE}` }).default(''),
  /** What the taint does to pods that do not tolerate it. */
  effect: z.enum(TAINT_EFFECTS, { error: `must be one of ${TAINT_EFFECTS.join(', ')}` }),
});

const workerPool = z.strictObject({
  /** The pool's name: part of every node's hostname. Required. */
  name: dns1123Label.refine((s) => s.length <= 20, { error: 'must be at most 20 characters (it is part of hostnames)' }),
  /** How many worker VMs the pool has. @default 2 */
  count: z.int().min(0, { error: 'must be at least 0' }).default(2),
  ...vmSize({ vcpu: 2, memoryMiB: 4096, diskGiB: 30 }, { vcpu: 1, memoryMiB: 1024, why: ' (a worker needs room for the kubelet and pods)' }),
  /** Node labels every node of the pool registers with (besides k8s-lab.io/pool=<name>). @default {} */
  labels: nodeLabels.refine((labels) => !(POOL_LABEL_KEY in labels), {
    error: `must not set ${POOL_LABEL_KEY}: every worker gets ${POOL_LABEL_KEY}=<pool name> automatically`,
  }),
  /** Node taints every node of the pool registers with. @default [] */
  taints: z.array(taint).default([]),
  /**
   * The block of `network.addressesPerPool` addresses (from host offset 50 on) the pool's nodes take, 0 for the
   * first. Pinned, it keeps the pool's addresses, and so its VMs, when pools before it are removed or reordered.
   * @default the pool's position in workerPools
   */
  addressBlock: z.int().min(0, { error: 'must be at least 0' }).max(1000, { error: 'must be at most 1000' }).optional(),
});

/** The prefix of the pod range each node gets from kubernetes.podCidr (kube-controller-manager's default for IPv4). */
const NODE_POD_PREFIX = 24;

/** Address blocks no cluster network may overlap: the kernel treats them specially. */
const SPECIAL_IPV4_BLOCKS = [
  ['0.0.0.0/8', '"this network"'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved, and broadcast'],
].map(([cidr, what]) => ({ network: parseIpv4Network(cidr)!, what }));

const cidr = z.string().refine((s) => parseIpv4Network(s) !== undefined, {
  error: 'must be an IPv4 network in CIDR notation with no host bits set, e.g. 192.168.150.0/24',
});

// sshpk is loaded on the first key checked, not with the spec: a spec without keys (and every synth of
// one) does without its ~50 ms of start-up.
let sshpk: typeof Sshpk | undefined;

const sshKey = z.string().refine(
  (s) => {
    try {
      sshpk ??= require('sshpk') as typeof Sshpk;
      sshpk.parseKey(s, 'ssh');
      return true;
    } catch {
      return false;
    }
  },
  { error: 'must be an OpenSSH public key line, e.g. "ssh-ed25519 AAAA... user@host"' },
);

/** The schema of a cluster spec file. Objects default field by field; arrays replace. */
export const ClusterSpecSchema = z
  .strictObject({
    /** The cluster's name: prefixes every libvirt object and hostname. @default 'k8s-lab' */
    name: dns1123Label.refine((s) => s.length <= 30, { error: 'must be at most 30 characters (it prefixes hostnames)' }).default('k8s-lab'),
    libvirt: z
      .strictObject({
        /** The libvirt connection URI. @default 'qemu:///system' */
        uri: z.string().refine((u) => parseLibvirtUri(u) !== undefined, { error: `must be ${LIBVIRT_URI_RULE}` }).default('qemu:///system'),
        /** Directory of the cluster's storage pool. @default - /var/lib/libvirt/images/<name> */
        poolPath: z.string().refine(isAbsolutePath, { error: `must be ${ABSOLUTE_PATH_RULE}` }).refine((p) => path.posix.normalize(p) !== '/', { error: 'must not be / (libvirt would own the whole file system)' }).optional(),
        /** kvm, or qemu (emulation) where /dev/kvm is unavailable. @default kvm */
        domainType: z.enum(DomainType, { error: `must be one of ${Object.values(DomainType).join(', ')}` }).default(DomainType.KVM),
      })
      .prefault({}),
    image: z
      .strictObject({
        /** URL or absolute local path of a qcow2 cloud image. @default the Ubuntu 24.04 LTS cloud image */
        source: z
          .string()
          .refine((s) => isHttpUrl(s) || isAbsolutePath(s), { error: `must be an http(s) URL with a host, or ${ABSOLUTE_PATH_RULE}` })
          .default(DEFAULT_IMAGE_SOURCE),
        /**
         * true: the nodes boot the k8s-lab node image (`npm run image`), which carries containerd, kubelet/kubeadm/kubectl
         * at kubernetes.version, every image kubeadm and the CNI need and the CNI's manifest; the bootstrap then checks the
         * baked versions and installs nothing from the network (bootstrap/node-image.ts). Only flannel is baked.
         * @default false (Kubernetes from pkgs.k8s.io, images from registry.k8s.io, the CNI manifest from GitHub)
         */
        prebaked: z.boolean({ error: 'must be true or false' }).default(false),
      })
      .prefault({}),
    network: z
      .strictObject({
        /** The node network (NAT). @default '192.168.150.0/24' (libvirt's own default is 192.168.122.0/24) */
        cidr: cidr.default('192.168.150.0/24'),
        /** DNS domain of the node network. @default 'k8s.lab' */
        domain: z.string().refine(isDns1123Subdomain, { error: 'must be a DNS subdomain such as k8s.lab' }).default('k8s.lab'),
        /** Addresses reserved per worker pool, so growing one pool never moves another's nodes. @default 50 */
        addressesPerPool: z.int().min(1, { error: 'must be at least 1' }).default(50),
      })
      .prefault({}),
    ssh: z
      .strictObject({
        /** Public keys allowed to log in as the `ubuntu` user of every node. @default [] */
        authorizedKeys: z.array(sshKey).default([]),
      })
      .prefault({}),
    controlPlane: z
      .strictObject({
        /** Control-plane nodes (stacked etcd: an odd number keeps quorum). @default 3 */
        count: z.int().min(1, { error: 'must be at least 1' }).max(MAX_CONTROL_PLANE_NODES, { error: `must be at most ${MAX_CONTROL_PLANE_NODES}` }).default(3),
        ...vmSize({ vcpu: 2, memoryMiB: 4096, diskGiB: 20 }, { vcpu: 2, memoryMiB: 1700, why: " (kubeadm's minimum)" }),
      })
      .prefault({}),
    workerPools: z.array(workerPool).default(() => [workerPool.parse({ name: 'general' })]),
    etcd: z
      .strictObject({
        /** stacked: a member on each control plane; external: its own VMs (safer, more machines). @default stacked */
        topology: z.enum(EtcdTopology, { error: `must be one of ${Object.values(EtcdTopology).join(', ')}` }).default(EtcdTopology.STACKED),
        /** External etcd members (ignored when stacked). @default 3 */
        count: z.int().min(1, { error: 'must be at least 1' }).max(MAX_ETCD_NODES, { error: `must be at most ${MAX_ETCD_NODES}` }).default(3),
        ...vmSize({ vcpu: 2, memoryMiB: 2048, diskGiB: 20 }, { vcpu: 1, memoryMiB: 1024, why: ' (an etcd member needs room for its database)' }),
      })
      .prefault({}),
    loadBalancer: z
      .strictObject({
        /** HAProxy VMs in front of the API servers. @default 1 */
        count: z.int().min(1, { error: 'must be 1 or 2' }).max(MAX_LOAD_BALANCERS, { error: 'must be 1 or 2' }).default(1),
        /** Virtual IP held by keepalived when count is 2. @default - none */
        virtualIp: z.string().refine(isIpv4, { error: 'must be an IPv4 address' }).optional(),
        ...vmSize({ vcpu: 1, memoryMiB: 1024, diskGiB: 10 }, { vcpu: 1, memoryMiB: 512, why: '' }),
      })
      .prefault({}),
    kubernetes: z
      .strictObject({
        /** A Kubernetes patch release, e.g. 1.36.3. @default DEFAULT_KUBERNETES_VERSION */
        version: z
          .string()
          .refine(
            (v) => {
              const m = /^1\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/.exec(v);
              return m !== null && +m[1] >= SUPPORTED_KUBERNETES_MINORS.min && +m[1] <= SUPPORTED_KUBERNETES_MINORS.max;
            },
            { error: `must be a release 1.${SUPPORTED_KUBERNETES_MINORS.min}.x to 1.${SUPPORTED_KUBERNETES_MINORS.max}.x written as MAJOR.MINOR.PATCH without leading zeros, e.g. ${DEFAULT_KUBERNETES_VERSION}` },
          )
          .default(DEFAULT_KUBERNETES_VERSION),
        /** Pod network. @default '10.244.0.0/16' */
        podCidr: cidr.default('10.244.0.0/16'),
        /** Service network. @default '10.96.0.0/12' */
        serviceCidr: cidr.default('10.96.0.0/12'),
        /** The CNI plugin. @default calico */
        cni: z.enum(Cni, { error: `must be one of ${Object.values(Cni).join(', ')}` }).default(Cni.CALICO),
        kubelet: z
          .strictObject({
            /**
             * KubeletConfiguration `failCgroupV1`: false lets kubelet 1.35+ run on a cgroup v1 host (the end-to-end tier's
             * container nodes on this machine). Left out of the config when unset.
             * @default - unset: kubelet's own default, true (the kubelet refuses cgroup v1)
             */
            failCgroupV1: z.boolean({ error: 'must be true or false' }).optional(),
            /**
             * KubeletConfiguration `evictionHard`: eviction signal → threshold, a percentage (`0%`–`100%`) or a
             * quantity (`100Mi`). Container nodes see the host's whole file system, shared with everything else on
             * it, so the end-to-end tier sets the disk signals to `0%` (as kind does); a VM has a disk of its own.
             * Left out of the config when unset.
             * @default - unset: kubelet's own thresholds (memory.available 100Mi, nodefs.available 10%, imagefs.available 15%, …)
             */
            evictionHard: z
              .partialRecord(
                z.enum(KUBELET_EVICTION_SIGNALS, { error: `must be a kubelet eviction signal: ${KUBELET_EVICTION_SIGNALS.join(', ')}` }),
                z.string().regex(/^(100|[1-9]?\d)(\.\d+)?%$|^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, {
                  error: 'must be a percentage from 0% to 100% or a quantity such as 100Mi',
                }),
              )
              .optional(),
          })
          .prefault({}),
        kubeadm: z
          .strictObject({
            /**
             * kubeadm preflight checks whose errors become warnings, by kubeadm's check name (e.g. SystemVerification),
             * in nodeRegistration.ignorePreflightErrors of every init and join configuration.
             * @default [] (every preflight error stops kubeadm)
             */
            ignorePreflightErrors: z
              .array(
                z.string().regex(PREFLIGHT_CHECK_NAME, {
                  error: `must be a kubeadm preflight check name such as SystemVerification, Swap or Port-6443 (letters, digits, '.', '_', '-'), or all`,
                }),
              )
              .default([])
              .superRefine((names, ctx) => {
                const lower = names.map((n) => n.toLowerCase());
                lower.forEach((n, i) => {
                  if (lower.indexOf(n) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `must be unique (kubeadm compares check names case-insensitively); [${lower.indexOf(n)}] is the same check`, input: names[i] });
                });
                if (lower.includes('all') && names.length > 1) {
                  ctx.addIssue({ code: 'custom', message: 'must not name single checks together with all (kubeadm refuses that)', input: names });
                }
              }),
          })
          .prefault({}),
        kubeProxy: z
          .strictObject({
            /**
             * KubeProxyConfiguration `conntrack.maxPerCore`: 0 leaves the host-wide nf_conntrack_max alone (a container
             * node cannot set it). When set, kubeadm init gets a KubeProxyConfiguration document.
             * @default - unset: no KubeProxyConfiguration is rendered, kube-proxy's default (32768 per core) applies
             */
            conntrackMaxPerCore: z.int({ error: 'must be a whole number' }).min(0, { error: 'must be at least 0 (0: leave nf_conntrack_max as it is)' }).optional(),
          })
          .prefault({}),
      })
      .prefault({}),
    containerd: z
      .strictObject({
        /**
         * CRI `restrict_oom_score_adj = true`: containers never get an oom_score_adj lower than containerd's own. Needed
         * where processes lack CAP_SYS_RESOURCE (the end-to-end tier's container nodes). Left out when false.
         * @default false
         */
        restrictOomScoreAdj: z.boolean({ error: 'must be true or false' }).default(false),
      })
      .prefault({}),
  })
  .superRefine((spec, ctx) => {
    const issue = (path: (string | number)[], message: string, input: unknown) => ctx.addIssue({ code: 'custom', path, message, input });

    // Worker pool names are part of hostnames and construct IDs: they must be unique.
    const seen = new Map<string, number>();
    spec.workerPools.forEach((pool, i) => {
      const first = seen.get(pool.name);
      if (first !== undefined) issue(['workerPools', i, 'name'], `must be unique; workerPools[${first}] has the same name`, pool.name);
      else seen.set(pool.name, i);
    });

    // Each pool has its own block of addresses: two pools in one block would share IPs.
    const blocks = new Map<number, number>();
    spec.workerPools.forEach((pool, i) => {
      const block = addressBlockOf(pool, i);
      const first = blocks.get(block);
      if (first === undefined) blocks.set(block, i);
      else issue(['workerPools', i, 'addressBlock'], `must differ from every other pool's block; workerPools[${first}] has block ${block} (its addressBlock, or else its position)`, pool.addressBlock ?? `${block} (its position)`);
    });

    // A Node's taints are unique by key and effect: the API server refuses a Node that repeats a pair.
    spec.workerPools.forEach((pool, i) => {
      const taints = new Map<string, number>();
      pool.taints.forEach((t, j) => {
        const pair = `${t.key}:${t.effect}`;
        const first = taints.get(pair);
        if (first === undefined) taints.set(pair, j);
        else issue(['workerPools', i, 'taints', j], `must be unique by key and effect; taints[${first}] has the same key and effect (${pair})`, t);
      });
    });

    // The node image carries one CNI's images and manifest: a prebaked node cannot fetch another.
    if (spec.image.prebaked && !BAKED_CNIS.includes(spec.kubernetes.cni)) {
      issue(['kubernetes', 'cni'], `must be ${BAKED_CNIS.join(' or ')} when image.prebaked is true: the node image bakes only ${BAKED_CNIS.join(', ')}'s images and manifest`, spec.kubernetes.cni);
    }

    // The three networks must not overlap, or routing inside the cluster breaks.
    const nets = [
      ['network', 'cidr'],
      ['kubernetes', 'podCidr'],
      ['kubernetes', 'serviceCidr'],
    ] as const;
    const parsed = nets.map(([a, b]) => parseIpv4Network((spec[a] as unknown as Record<string, string>)[b]));
    for (let i = 0; i < nets.length; i++) {
      for (let j = i + 1; j < nets.length; j++) {
        const [x, y] = [parsed[i], parsed[j]];
        if (x && y && overlaps(x, y)) {
          issue([...nets[j]], `must not overlap ${nets[i].join('.')} (${x.cidr})`, y.cidr);
        }
      }
    }

    // None of them may take addresses the kernel keeps for itself.
    parsed.forEach((net, i) => {
      const special = net && SPECIAL_IPV4_BLOCKS.find((b) => overlaps(net, b.network));
      if (net && special) issue([...nets[i]], `must not overlap ${special.network.cidr} (${special.what})`, net.cidr);
    });

    // kubeadm's bounds (kubeadm config validate): a service network of /12 to /28, so that the cluster DNS
    // address (its 10th) exists; a pod network of /8 to /24, split into one /24 per node.
    const [, pods, services] = parsed;
    if (services && (services.prefixLength < 12 || services.prefixLength > 28)) {
      issue(['kubernetes', 'serviceCidr'], 'must be a network of /12 to /28 (kubeadm refuses a larger one, and the cluster DNS takes its 10th address)', services.cidr);
    }
    if (pods && (pods.prefixLength < 8 || pods.prefixLength > NODE_POD_PREFIX)) {
      issue(['kubernetes', 'podCidr'], `must be a network of /8 to /${NODE_POD_PREFIX} (kubeadm gives each node a /${NODE_POD_PREFIX} of it)`, pods.cidr);
    } else if (pods && spec.controlPlane.count <= MAX_CONTROL_PLANE_NODES && spec.workerPools.every((pool) => pool.count <= spec.network.addressesPerPool)) {
      // (counts out of range are reported on their own fields: the node count is not worth a second message)
      const kubelets = spec.controlPlane.count + spec.workerPools.reduce((n, pool) => n + pool.count, 0);
      const perNode = 2 ** (NODE_POD_PREFIX - pods.prefixLength);
      const needed = NODE_POD_PREFIX - Math.ceil(Math.log2(kubelets));
      if (kubelets > perNode && needed >= 8) {
        issue(['kubernetes', 'podCidr'], `is too small: it holds ${perNode} node range(s) of /${NODE_POD_PREFIX}, but the cluster has ${kubelets} nodes (control planes and workers); use a /${needed} or larger`, pods.cidr);
      } else if (kubelets > perNode) {
        issue(['kubernetes', 'podCidr'], `is too small for ${kubelets} nodes, and so is any pod network kubeadm allows (a /8 holds ${2 ** (NODE_POD_PREFIX - 8)} node ranges)`, pods.cidr);
      }
    }

    // Every node, plus the gateway, needs an address in the node network.
    const network = parsed[0];
    if (!network) return;
    spec.workerPools.forEach((pool, i) => {
      if (pool.count > spec.network.addressesPerPool) {
        issue(['workerPools', i, 'count'], `must be at most network.addressesPerPool (${spec.network.addressesPerPool})`, pool.count);
      }
    });
    const blockCount = Math.max(0, ...spec.workerPools.map((pool, i) => addressBlockOf(pool, i) + 1));
    const lastOffset = ADDRESS_PLAN.firstWorkerOffset + blockCount * spec.network.addressesPerPool - 1;
    const lastHost = network.size - 2;
    if (lastOffset > lastHost) {
      issue(
        ['network', 'cidr'],
        `is too small: ${blockCount} worker address block(s) of network.addressesPerPool=${spec.network.addressesPerPool} addresses from offset ${ADDRESS_PLAN.firstWorkerOffset} need host offset ${lastOffset}, but it has ${lastHost} host addresses; use a larger network (e.g. /${Math.max(8, 32 - Math.ceil(Math.log2(lastOffset + 2)))}) or fewer addresses per pool`,
        spec.network.cidr,
      );
    }
    if (spec.loadBalancer.count === 2 && spec.loadBalancer.virtualIp === undefined) {
      issue(['loadBalancer', 'virtualIp'], 'is required when loadBalancer.count is 2 (keepalived moves it between the two)', undefined);
    }
    if (spec.loadBalancer.count === 1 && spec.loadBalancer.virtualIp !== undefined) {
      issue(['loadBalancer', 'virtualIp'], 'must be left out when loadBalancer.count is 1: only a pair of load balancers runs keepalived, which holds it (the API would be addressed at an IP no one answers)', spec.loadBalancer.virtualIp);
    } else if (spec.loadBalancer.virtualIp !== undefined) {
      const offset = offsetOf(network, spec.loadBalancer.virtualIp);
      const { min, max } = ADDRESS_PLAN.virtualIpOffsets;
      if (offset === undefined || offset < min || offset > max) {
        // A network too small to hold the range is reported on network.cidr; say the offsets only.
        const here = max < network.size ? `, here ${addressAt(network, min)} to ${addressAt(network, max)}` : '';
        issue(['loadBalancer', 'virtualIp'], `must be one of the addresses network.cidr keeps free for virtual IPs (host offsets ${min} to ${max}${here})`, spec.loadBalancer.virtualIp);
      }
    }
  })
  .transform((spec) => ({
    ...spec,
    libvirt: { ...spec.libvirt, poolPath: spec.libvirt.poolPath ?? `/var/lib/libvirt/images/${spec.name}` },
  }));

/** The address block of the pool at position `index` of workerPools: its `addressBlock`, else its position. */
export function addressBlockOf(pool: { readonly addressBlock?: number }, index: number): number {
  return pool.addressBlock ?? index;
}

/** A validated cluster spec with every default resolved. */
export type ClusterSpec = z.output<typeof ClusterSpecSchema>;
/** What a spec file may contain: every field optional but a worker pool's name. */
export type ClusterSpecInput = z.input<typeof ClusterSpecSchema>;
/** One worker pool of a validated spec. */
export type WorkerPoolSpec = ClusterSpec['workerPools'][number];
/** One taint of a worker pool. */
export type TaintSpec = WorkerPoolSpec['taints'][number];
