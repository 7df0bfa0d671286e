export * from './node-files';
export * from './secrets';
