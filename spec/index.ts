export * from './address-plan';
export * from './cluster-spec';
export * from './ipv4';
export * from './kubernetes-names';
export * from './libvirt-uri';
export * from './load-spec';
export * from './node-plan';
