// cdktf's jest matchers (toHaveResourceWithProperties, toBeValidTerraform, ...).
const { Testing } = require('cdktf');
Testing.setupJest();

// Each tier's default test timeout (jest.config.js `globals`); a test may still set its own.
if (typeof TIER_TIMEOUT_MS === 'number') jest.setTimeout(TIER_TIMEOUT_MS);
