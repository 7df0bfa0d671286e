import { Construct } from 'constructs';
import * as volume from '../.gen/providers/libvirt/volume';
import { ABSOLUTE_PATH_RULE, isAbsolutePath, isHttpUrl } from '../spec';

/** Props of {@link BaseImage}. */
export interface BaseImageProps {
  /** The volume's name in the pool. */
  readonly name: string;
  /** The pool that holds it. */
  readonly poolName: string;
  /** URL or absolute local path of a qcow2 cloud image; libvirt copies it into the pool once. */
  readonly source: string;
}

/** The cloud image every node's disk is a copy-on-write layer on. */
export class BaseImage extends Construct {
  /** The base volume. */
  readonly volume: volume.Volume;

  constructor(scope: Construct, id: string, props: BaseImageProps) {
    super(scope, id);
    if (!isHttpUrl(props.source) && !isAbsolutePath(props.source)) {
      throw new Error(`BaseImage.source must be an http(s) URL with a host, or ${ABSOLUTE_PATH_RULE}, got ${JSON.stringify(props.source)}`);
    }
    this.volume = new volume.Volume(this, 'Volume', {
      name: props.name,
      pool: props.poolName,
      source: props.source,
      format: 'qcow2',
    });
  }
}
