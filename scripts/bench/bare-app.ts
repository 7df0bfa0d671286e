/**
 * The framework's floor for `npm run bench`: a cdktf app with one stack and one output, run the
 * same way as main.ts (node + scripts/register-ts.js), so the ratio shows what our code adds.
 */
import { App, TerraformOutput, TerraformStack } from 'cdktf';

const app = new App();
const stack = new TerraformStack(app, 'bare');
new TerraformOutput(stack, 'hello', { value: 'world' });
app.synth();
