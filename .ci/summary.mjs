// Prints the closing line CI reads, "N passed, N failed[, N skipped]", from vitest's JSON report.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-results.json';
if (!existsSync(file)) {
  console.log('0 passed, 1 failed');
  console.error(`ci: ${file} was not written: the test run did not finish`);
  process.exit(1);
}
const r = JSON.parse(readFileSync(file, 'utf8'));
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
// A suite that fails to load counts as a failure even though none of its tests ran.
const brokenSuites = (r.testResults ?? []).filter(
  (s) => s.status === 'failed' && s.assertionResults.length === 0,
).length;
const failed = r.numFailedTests + brokenSuites;
console.log(`${r.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
