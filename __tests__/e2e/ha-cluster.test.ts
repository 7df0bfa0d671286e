import { describeClusterChecks } from './support/cluster-checks';
import { HA_SPEC } from './support/specs';

// The end-to-end tier (README, "The end-to-end tier"): the default HA topology — 1 HAProxy, 3 control
// planes with stacked etcd, 2 workers — as container nodes of the node image (`npm run image`), each
// running its own rendered user-data through the real cloud-init.

describeClusterChecks("an HA cluster forms from the nodes' own user-data: 1 HAProxy, 3 control planes (stacked etcd), 2 workers", HA_SPEC, 'ha');
