import { Construct } from 'constructs';
import * as pool from '../.gen/providers/libvirt/pool';
import { ABSOLUTE_PATH_RULE, isAbsolutePath } from '../spec';

/** Props of {@link StoragePool}. */
export interface StoragePoolProps {
  /** The libvirt pool's name. */
  readonly name: string;
  /** The directory that holds the pool's volumes (created by libvirt). */
  readonly path: string;
}

/** A directory storage pool holding the cluster's base image, node disks and NoCloud seeds. */
export class StoragePool extends Construct {
  /** The libvirt pool. */
  readonly pool: pool.Pool;

  constructor(scope: Construct, id: string, props: StoragePoolProps) {
    super(scope, id);
    if (props.name === '') throw new Error('StoragePool.name must be a non-empty libvirt pool name, got ""');
    if (!isAbsolutePath(props.path)) throw new Error(`StoragePool.path must be ${ABSOLUTE_PATH_RULE}, got ${JSON.stringify(props.path)}`);
    this.pool = new pool.Pool(this, 'Pool', { name: props.name, type: 'dir', target: { path: props.path } });
  }
}
