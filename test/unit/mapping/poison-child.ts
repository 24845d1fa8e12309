// Run by poison.test.ts in a child process under --max-old-space-size=256: maps a batch whose records
// ask JSONata for far more memory than that heap ($pad to 10^8 characters; a string doubled 28 times and
// then spread into an array), then prints the outcome and the peak RSS as JSON. Evaluated in this
// process, either record ends it with a fatal out-of-memory error.
import { compileMappingText } from '../../../src/mapping/index.ts';
import { mappingText } from './helpers.ts';

const expression =
  "kind = 'pad' ? $pad('x', width, '-=') : $length($reduce([1..doublings], function($acc, $i){ $acc & $acc }, 'x'))";
const mapping = compileMappingText(
  mappingText(
    [
      // A generous timeout, so the heap cap (not the deadline) is what stops the doubling record.
      'jsonata: { timeout_ms: 10000 }',
      'fields:',
      '  n: $.n',
      `  v: { expr: { jsonata: ${JSON.stringify(expression)} } }`,
    ].join('\n'),
  ),
  'test.yaml',
);

const result = await mapping.mapBatch([
  { payload: { n: 1, kind: 'pad', width: 3 } },
  { payload: { n: 2, kind: 'pad', width: 100_000_000 } },
  { payload: { n: 3, kind: 'double', doublings: 28 } },
  { payload: { n: 4, kind: 'double', doublings: 3 } },
]);
process.stdout.write(
  JSON.stringify({
    rows: result.rows.map((r) => [r.n, r.v]),
    failed: result.failed.map((f) => [f.index, f.error.code, f.error.detail]),
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  }),
);
