export * from './haproxy-config';
export * from './node-files';
export * from './secrets';
