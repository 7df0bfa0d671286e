export * from './check-policy';
export * from './join-pins-ca';
export * from './lb-exposes-only-6443';
export * from './policy-rule';
export * from './secrets-not-world-readable';
export * from './ssh-key-only';
export * from './secret-outputs-private';
