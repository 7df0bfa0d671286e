import { TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import * as provider from '../.gen/providers/libvirt/provider';
import { ClusterSecrets } from '../bootstrap';
import { ClusterSpec } from '../spec';
import { KubernetesCluster } from './kubernetes-cluster';

/** Props of {@link ClusterStack}. */
export interface ClusterStackProps {
  /** The validated cluster spec. */
  readonly spec: ClusterSpec;
  /** The cluster's bootstrap secrets. */
  readonly secrets: ClusterSecrets;
}

/**
 * One Terraform stack (and so one state) per cluster, named after it: the libvirt provider
 * pointed at `libvirt.uri`, and the cluster.
 */
export class ClusterStack extends TerraformStack {
  readonly cluster: KubernetesCluster;

  constructor(scope: Construct, props: ClusterStackProps) {
    super(scope, props.spec.name);
    new provider.LibvirtProvider(this, 'libvirt', { uri: props.spec.libvirt.uri });
    this.cluster = new KubernetesCluster(this, 'Cluster', props);
  }
}
