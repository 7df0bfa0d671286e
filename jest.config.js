// Test tiers, one jest project each (run one with `jest --selectProjects NAME`):
//   unit    – TypeScript, no external tool but xorriso, which synth itself needs to write the NoCloud
//             seeds (a host requirement like node; npm test)
//   tools   – real-tool validation: terraform validate, cloud-init schema, shellcheck, haproxy -c,
//             kubeadm config validate, kubeconform (needs `npm run tools`)
//   live    – real processes on loopback: HAProxy failover (needs `npm run tools`)
//   deploy  – cdktf deploy/destroy against a local libvirtd (needs `npm run tools`)
//   e2e     – container nodes of the node image form the HA cluster (needs `npm run tools` and `npm run image`)
const tier = (name, timeoutMs) => ({
  displayName: name,
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__/' + name],
  testMatch: ['**/*.test.ts'],
  setupFilesAfterEnv: ['<rootDir>/__tests__/setup.js'],
  snapshotSerializers: ['<rootDir>/__tests__/support/redact-private-keys.js'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false, }] },
  // testTimeout is a global-only option; each tier's default reaches __tests__/setup.js this way.
  globals: { TIER_TIMEOUT_MS: timeoutMs },
});

module.exports = {
  projects: [
    tier('unit', 60_000),
    tier('tools', 600_000),
    tier('live', 600_000),
    tier('deploy', 3_600_000),
    tier('e2e', 3_600_000),
  ],
};
