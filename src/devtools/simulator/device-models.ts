import type { SimulatedMetric } from './metric-profiles.ts';

/** A device model a vendor sells: what it measures and how it is maintained. */
export interface DeviceModel {
  model: string;
  /** The metrics it reports; the first is its primary metric (dw.dim_device range and unit). */
  metrics: readonly [SimulatedMetric, ...SimulatedMetric[]];
  firmwareVersions: readonly string[];
  calibrationIntervalDays: number;
}

/** The machine types the simulated lines hold, and the models mounted on each. */
export const assetTypes: Readonly<
  Record<string, { label: string; prefix: string; fits: readonly string[] }>
> = {
  pump: { label: 'Pump', prefix: 'P', fits: ['vibration', 'pressure', 'power'] },
  compressor: { label: 'Compressor', prefix: 'K', fits: ['vibration', 'pressure', 'power', 'temperature'] },
  conveyor: { label: 'Conveyor', prefix: 'C', fits: ['vibration', 'power'] },
  chiller: { label: 'Chiller', prefix: 'CH', fits: ['temperature', 'pressure', 'power'] },
  oven: { label: 'Curing oven', prefix: 'OV', fits: ['temperature', 'humidity', 'power'] },
  mixer: { label: 'Mixer', prefix: 'M', fits: ['vibration', 'temperature', 'power'] },
};

/**
 * Models per wire format. Each vendor has one model per primary metric, so any asset type can be equipped
 * from either vendor and the fleet can be split across the two formats.
 */
export const deviceModels: Readonly<
  Record<string, { manufacturer: string; models: readonly DeviceModel[] }>
> = {
  acme: {
    manufacturer: 'Acme Sensors Inc.',
    models: [
      {
        model: 'ACME-TH200',
        metrics: ['temperature', 'humidity', 'battery'],
        firmwareVersions: ['2.1.4', '2.2.0'],
        calibrationIntervalDays: 365,
      },
      {
        model: 'ACME-VX500',
        metrics: ['vibration', 'temperature', 'battery'],
        firmwareVersions: ['4.0.1', '4.1.3'],
        calibrationIntervalDays: 180,
      },
      {
        model: 'ACME-PT310',
        metrics: ['pressure', 'temperature'],
        firmwareVersions: ['1.9.2'],
        calibrationIntervalDays: 365,
      },
      {
        model: 'ACME-PM40',
        metrics: ['power'],
        firmwareVersions: ['3.3.0', '3.4.1'],
        calibrationIntervalDays: 730,
      },
    ],
  },
  flatline: {
    manufacturer: 'Flatline Instruments GmbH',
    models: [
      {
        model: 'FL-ENV2',
        metrics: ['temperature', 'humidity', 'battery'],
        firmwareVersions: ['1.4.0', '1.5.2'],
        calibrationIntervalDays: 365,
      },
      {
        model: 'FL-VIB8',
        metrics: ['vibration', 'temperature', 'battery'],
        firmwareVersions: ['5.0.0'],
        calibrationIntervalDays: 180,
      },
      {
        model: 'FL-PRS4',
        metrics: ['pressure', 'temperature'],
        firmwareVersions: ['2.2.7', '2.3.0'],
        calibrationIntervalDays: 365,
      },
      { model: 'FL-PWR3', metrics: ['power'], firmwareVersions: ['3.0.9'], calibrationIntervalDays: 730 },
    ],
  },
};
