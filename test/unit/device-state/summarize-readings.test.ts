import { describe, expect, it } from 'vitest';
import { summarizeReadings } from '../../../src/device-state/index.ts';
import type { FactReading } from '../../../src/warehouse/index.ts';

const BATTERY = 7;
const fact = (deviceSk: number, metricSk: number, tsMs: number, value: number | null = 1): FactReading => ({
  deviceSk,
  assetSk: 1,
  metricSk,
  tsMs,
  value,
  quality: 2,
  mappingId: 'm',
  mappingVersion: 1,
  topic: 't',
  partition: 0,
  offset: '0',
});

describe('summarizeReadings', () => {
  it('keeps per device the newest reading time and the newest battery reading, whatever the order', () => {
    const summary = summarizeReadings(
      [
        fact(1, 3, 2000),
        fact(1, BATTERY, 1500, 40),
        fact(1, BATTERY, 1000, 90), // older battery reading arriving later in the batch
        fact(2, 3, 500),
        fact(1, 3, 1000),
      ],
      BATTERY,
    );
    expect(summary).toEqual({
      deviceSks: [1, 2],
      seenMs: [2000, 500],
      batteryPct: [40, null],
      batteryMs: [1500, null],
    });
  });

  it('leaves out the unknown member and battery readings without a value', () => {
    const summary = summarizeReadings([fact(-1, 3, 1000), fact(4, BATTERY, 1000, null)], BATTERY);
    expect(summary).toEqual({ deviceSks: [4], seenMs: [1000], batteryPct: [null], batteryMs: [null] });
  });

  it('reads no battery when the warehouse has no battery metric', () => {
    expect(summarizeReadings([fact(4, BATTERY, 1000, 50)], null).batteryPct).toEqual([null]);
  });
});
