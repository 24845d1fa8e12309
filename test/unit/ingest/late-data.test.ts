import { describe, expect, it } from 'vitest';
import { lateTolerantRouter, withoutMaxLateness } from '../../../src/ingest/stages/late-data.ts';
import { createMappingRouter } from '../../../src/mapping/index.ts';
import { mappingWith } from '../mapping/helpers.ts';

const acme = () =>
  mappingWith(
    [
      'late_data: { future_skew: 5m, max_lateness: 7d }',
      'fields:',
      '  device_id: $.d',
      '  ts: to_timestamp($.ts)',
    ].join('\n'),
  );

describe('backfill: mappings with max_lateness lifted', () => {
  it('lifts max_lateness only, and maps as the mapping does', async () => {
    const mapping = acme();
    const view = withoutMaxLateness(mapping);
    expect(view.lateData).toEqual({ futureSkewMs: 300_000, maxLatenessMs: null });
    expect(mapping.lateData.maxLatenessMs).toBe(7 * 86_400_000);
    expect([view.id, view.version, view.file]).toEqual([mapping.id, mapping.version, mapping.file]);
    const input = [{ payload: { d: 'dev-1', ts: '2025-01-01T00:00:00Z' }, meta: { topic: 't' } }];
    expect((await view.mapBatch(input)).rows).toEqual((await mapping.mapBatch(input)).rows);
  });

  it('hands out one view per mapping, so per-mapping caches keep working', () => {
    const mapping = acme();
    expect(withoutMaxLateness(mapping)).toBe(withoutMaxLateness(mapping));
    const router = lateTolerantRouter(createMappingRouter([mapping]));
    expect(router.forTopic('t')[0]).toBe(withoutMaxLateness(mapping));
    expect(router.route({ d: 'x' }, { topic: 't' })).toBe(withoutMaxLateness(mapping));
    expect(router.route({ d: 'x' }, { topic: 'other' })).toBeNull();
  });
});
