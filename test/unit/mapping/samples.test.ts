import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMappingRouter, loadMappings, runMappingTests } from '../../../src/mapping/index.ts';

const loaded = loadMappings(['mappings']);

describe('the sample mappings in mappings/', () => {
  it('all load without errors', () => {
    expect(loaded.errors.map((e) => e.message)).toEqual([]);
    expect(loaded.mappings.map((m) => m.id).sort()).toEqual([
      'alert-incident',
      'cmdb-asset',
      'cmdb-device-ci',
      'cmms-work-order',
      'mdm-asset',
      'mdm-device',
      'telemetry-acme',
      'telemetry-flatline',
      'telemetry-gateway',
      'telemetry-plc-csv',
      'telemetry-sparkplug',
    ]);
  });

  it('load without warnings (unused lets)', () => {
    expect(loaded.mappings.flatMap((m) => m.warnings.map((w) => w.message))).toEqual([]);
  });

  it.each(loaded.mappings.map((m) => [m.file, m] as const))(
    '%s passes its inline tests',
    async (_file, mapping) => {
      const report = await runMappingTests(mapping);
      expect(report.results.length).toBeGreaterThan(0);
      expect(report.results.filter((r) => !r.passed).map((r) => [r.name, r.problems])).toEqual([]);
    },
  );

  it('each names the editor schema on its first line', () => {
    for (const file of readdirSync('mappings').filter((f) => f.endsWith('.yaml'))) {
      expect(readFileSync(`mappings/${file}`, 'utf8').split('\n')[0]).toBe(
        '# yaml-language-server: $schema=./mapping.schema.json',
      );
    }
  });

  it('route telemetry by topic and predicate', () => {
    const router = createMappingRouter(loaded.mappings.filter((m) => m.kind === 'FactMapping'));
    const acme = { schema: 'acme.telemetry', v: 2, deviceId: 'd', ts: '2026-08-20T10:00:00Z', readings: [] };
    expect(router.route(acme, { topic: 'telemetry.acme' })?.id).toBe('telemetry-acme');
    expect(router.route({ ...acme, v: 1 }, { topic: 'telemetry.acme' })).toBeNull();
    expect(router.route({ dev: 'd', t: 1 }, { topic: 'telemetry.flatline' })?.id).toBe('telemetry-flatline');
    expect(router.route(acme, { topic: 'telemetry.other' })).toBeNull();
    expect(router.topics().sort()).toEqual([
      'cmms.public.work_order',
      'telemetry.acme',
      'telemetry.flatline',
      'telemetry.gateway',
      'telemetry.plc-csv',
      'telemetry.sparkplug',
    ]);
  });

  it('acme rows carry the lookups the enrichment stage resolves', () => {
    const acme = loaded.mappings.find((m) => m.id === 'telemetry-acme')!;
    expect(acme.lookups.map((l) => [l.name, l.dimension, l.naturalKey, l.asOf, l.onMissing])).toEqual([
      ['device', 'dim_device', { device_nk: 'device_id' }, 'ts', 'infer'],
      ['metric', 'dim_metric', { metric_code: 'metric' }, null, 'quarantine'],
    ]);
    expect(acme.fieldNames).toEqual(['device_id', 'metric', 'ts', 'value', 'unit', 'quality']);
    expect(acme.lateData).toEqual({ futureSkewMs: 300_000, maxLatenessMs: 604_800_000 });
  });
});
