import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { lineage, startLineage } from '../../../src/lineage/index.ts';
import { createLogger } from '../../../src/observability/index.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'hub-lineage-config-'));

describe('OpenLineage configuration', () => {
  afterEach(() => lineage.close());

  it('is off by default: no URL, nothing configured', async () => {
    const config = loadConfig({ file: undefined, env: { HUB_CONFIG: '' } });
    expect(config.openlineage).toEqual({ url: null, apiKey: null, namespace: 'iot-hub', windowSeconds: 60 });
    expect(await startLineage(config, createLogger('silent'))).toBe(false);
    expect(lineage.enabled).toBe(false);
  });

  it('OPENLINEAGE_URL, OPENLINEAGE_API_KEY and OPENLINEAGE_NAMESPACE turn it on and name the jobs', async () => {
    const config = loadConfig({
      file: undefined,
      env: {
        HUB_CONFIG: '',
        OPENLINEAGE_URL: 'http://127.0.0.1:5000',
        OPENLINEAGE_API_KEY: 'k',
        OPENLINEAGE_NAMESPACE: 'plant-7',
      },
    });
    expect(config.openlineage).toMatchObject({
      url: 'http://127.0.0.1:5000',
      apiKey: 'k',
      namespace: 'plant-7',
    });
    expect(await startLineage(config, createLogger('silent'))).toBe(true);
    expect(lineage.rollup()).toMatchObject({ namespace: 'plant-7', name: 'warehouse.hourly_rollup' });
    expect(lineage.rollup()!.outputs[0]!.namespace).toBe('postgres://127.0.0.1:5432');
  });

  it('the config file is checked: a URL that is not http(s) is reported with file, line and key', () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'openlineage:\n  url: marquez:5000\n');
    expect(() => loadConfig({ file, env: {} })).toThrow(/bad\.yaml:2:\d+: openlineage\.url/);
  });
});
