/**
 * Prints the cluster spec's Kubernetes version (CLUSTER_CONFIG, else cluster.yaml, else the default),
 * for scripts/image/build.sh; exits non-zero with the spec's problems if it is invalid.
 * Usage: node --require ./scripts/register-ts.js scripts/image/spec-version.ts
 */
import { loadClusterSpecOrExit } from '../../spec';

console.log(loadClusterSpecOrExit().spec.kubernetes.version);
