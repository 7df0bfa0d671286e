/**
 * The cdk8s half of the bare CLI path in `npm run bench`: an app with one empty chart, run by `cdk8s synth`
 * the way cdk8s.yaml runs manifests/main.ts, so the ratio shows what our charts and spec add.
 */
import { App, Chart } from 'cdk8s';

const app = new App();
new Chart(app, 'bare');
app.synth();
