import { ClusterPlan, DomainType } from '../../spec';

/**
 * How many times longer the bootstrap waits for other nodes under emulation (libvirt.domainType qemu), which runs
 * about 10× slower than KVM: a bound sized for KVM would give up on a first control plane that is only slow, and a
 * step that gives up stops the node's bootstrap for good (cloud-init runs it once).
 */
export const EMULATION_WAIT_FACTOR = 10;

/** `seconds`, a wait's bound under KVM, for the plan's domain type. */
export function waitBoundSeconds(plan: ClusterPlan, seconds: number): number {
  return plan.spec.libvirt.domainType === DomainType.QEMU ? seconds * EMULATION_WAIT_FACTOR : seconds;
}
