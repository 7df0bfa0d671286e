export * from './haproxy-config';
export * from './kubeadm-config';
export * from './node-files';
export * from './secrets';
