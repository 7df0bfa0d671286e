#!/usr/bin/env node
// .ci/run's last line, "N passed, N failed[, N skipped]", from jest's JSON results (--json --outputFile).
// A suite that fails before any of its tests runs (an error at load time, in a describe body or in a
// beforeAll) has no failed test in jest's counts: it counts here as one failure, and its file is named
// on a line of its own, so the summary never reads "0 failed" for a run that failed.
'use strict';
const fs = require('fs');

/** The summary lines for jest's aggregated results. */
function summaryLines(results) {
  const unrun = results.testResults.filter(
    (suite) => suite.status === 'failed' && !suite.assertionResults.some((test) => test.status === 'failed'),
  );
  const failed = results.numFailedTests + unrun.length;
  const skipped = results.numPendingTests ? `, ${results.numPendingTests} skipped` : '';
  return [...unrun.map((suite) => `suite failed to run: ${suite.name}`), `${results.numPassedTests} passed, ${failed} failed${skipped}`];
}

if (require.main === module) {
  const file = process.argv[2];
  if (file === undefined) {
    console.error('usage: ci-summary.js JEST_RESULTS.json');
    process.exit(2);
  }
  for (const line of summaryLines(JSON.parse(fs.readFileSync(file, 'utf8')))) console.log(line);
}

module.exports = { summaryLines };
