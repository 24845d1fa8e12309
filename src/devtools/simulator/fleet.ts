import { assetTypes, type DeviceModel, deviceModels } from './device-models.ts';
import type { Fleet, FleetAsset, FleetDevice, FleetMetric, FleetOptions } from './fleet-types.ts';
import { metricProfiles, type SimulatedMetric } from './metric-profiles.ts';
import { createRandom, fnv1a, type Random } from './random.ts';

const dayMs = 86_400_000;

// Site names with their zone and standard UTC offset (hours); the offset only places the daily peak.
const siteCatalog: ReadonlyArray<{ name: string; timeZone: string; utcOffset: number }> = [
  { name: 'Rotterdam', timeZone: 'Europe/Amsterdam', utcOffset: 1 },
  { name: 'Monterrey', timeZone: 'America/Monterrey', utcOffset: -6 },
  { name: 'Pune', timeZone: 'Asia/Kolkata', utcOffset: 5.5 },
  { name: 'Lyon', timeZone: 'Europe/Paris', utcOffset: 1 },
  { name: 'Columbus', timeZone: 'America/New_York', utcOffset: -5 },
  { name: 'Gdansk', timeZone: 'Europe/Warsaw', utcOffset: 1 },
  { name: 'Nagoya', timeZone: 'Asia/Tokyo', utcOffset: 9 },
  { name: 'Campinas', timeZone: 'America/Sao_Paulo', utcOffset: -3 },
];
const areaNames = ['Assembly', 'Packaging', 'Utilities', 'Machining', 'Paint shop', 'Warehouse'];
const criticalities = ['high', 'medium', 'medium', 'low', 'low'] as const;

/**
 * Generates a plant hierarchy (sites > areas > lines > machines) and the devices mounted on the machines,
 * split round robin across the vendor formats. A pure function of `seed` and `options`: the same arguments
 * give the same fleet, ids and dates included. About two devices share a machine. Throws RangeError for
 * sizes below zero (devices, unknownDevices) or one (sites, intervalS).
 */
export function generateFleet(seed: number | string, options: FleetOptions = {}): Fleet {
  const devices = options.devices ?? 20;
  const sites = options.sites ?? 2;
  const unknownDevices = options.unknownDevices ?? 0;
  const intervalS = options.intervalS ?? 60;
  const vendors = options.vendors ?? Object.keys(deviceModels);
  const idPrefix = options.idPrefix ?? '';
  const asOf = options.asOf ?? startOfUtcDay(new Date());
  if (!Number.isInteger(devices) || devices < 0) throw new RangeError('devices must be an integer >= 0');
  if (!Number.isInteger(sites) || sites < 1) throw new RangeError('sites must be an integer >= 1');
  if (!Number.isInteger(unknownDevices) || unknownDevices < 0)
    throw new RangeError('unknownDevices must be an integer >= 0');
  if (!(intervalS >= 1)) throw new RangeError('intervalS must be at least 1 second');
  const unknownVendor = vendors.find((v) => !deviceModels[v]);
  if (unknownVendor !== undefined || vendors.length === 0) {
    throw new RangeError(
      `vendors must name known formats (${Object.keys(deviceModels).join(', ')}); got '${unknownVendor ?? ''}'`,
    );
  }

  const random = createRandom(seed);
  const assets = generateHierarchy(random.fork('hierarchy'), sites, devices, idPrefix);
  const machines = assets.filter((a) => a.level === 'asset');
  const fleetDevices: FleetDevice[] = [];
  for (let i = 0; i < devices + unknownDevices; i++) {
    const registered = i < devices;
    const deviceId = registered
      ? `${idPrefix}dev-${String(i + 1).padStart(5, '0')}`
      : `${idPrefix}dev-x${String(i - devices + 1).padStart(4, '0')}`;
    const machine = registered ? machines[i % machines.length]! : null;
    fleetDevices.push(
      // Streams are forked by position, not id, so an id prefix renames a fleet without changing it.
      generateDevice(random.fork(`device/${registered ? i : `x${i - devices}`}`), {
        seed,
        deviceId,
        registered,
        vendor: vendors[i % vendors.length]!,
        machine,
        site: machine ? assets.find((a) => a.assetId === machine.path[0])! : null,
        intervalS,
        asOf,
      }),
    );
  }
  return { seed, asOf, idPrefix, assets, devices: fleetDevices };
}

function generateHierarchy(random: Random, sites: number, devices: number, idPrefix: string): FleetAsset[] {
  const assets: FleetAsset[] = [];
  const lines: FleetAsset[] = [];
  for (let s = 0; s < sites; s++) {
    const catalog = siteCatalog[s % siteCatalog.length]!;
    const round = Math.floor(s / siteCatalog.length);
    const siteId = `${idPrefix}S${String(s + 1).padStart(2, '0')}`;
    const site = node(
      siteId,
      null,
      'site',
      `${catalog.name}${round ? ` ${round + 1}` : ''} plant`,
      catalog.timeZone,
      [siteId],
    );
    assets.push(site);
    const areaCount = random.int(2, 3);
    for (let a = 0; a < areaCount; a++) {
      const areaId = `${siteId}-A${a + 1}`;
      assets.push(
        node(areaId, siteId, 'area', areaNames[a % areaNames.length]!, catalog.timeZone, [siteId, areaId]),
      );
      const lineCount = random.int(1, 3);
      for (let l = 0; l < lineCount; l++) {
        const lineId = `${areaId}-L${l + 1}`;
        const line = node(lineId, areaId, 'line', `Line ${a + 1}${l + 1}`, catalog.timeZone, [
          siteId,
          areaId,
          lineId,
        ]);
        assets.push(line);
        lines.push(line);
      }
    }
  }
  // About two devices per machine, at least one machine per line.
  const perLine = Math.max(1, Math.ceil(devices / (2 * lines.length)));
  const types = Object.keys(assetTypes);
  for (const line of lines) {
    for (let m = 0; m < perLine; m++) {
      const type = random.pick(types);
      const { label, prefix } = assetTypes[type]!;
      const number = `${(m + 1) * 10 + random.int(0, 9)}`.padStart(3, '0');
      const assetId = `${line.assetId}-${prefix}${number}`;
      assets.push({
        ...node(assetId, line.assetId, 'asset', `${label} ${prefix}-${number}`, line.timeZone, [
          ...line.path,
          assetId,
        ]),
        assetType: type,
        criticality: random.pick(criticalities),
      });
    }
  }
  return assets;
}

function node(
  assetId: string,
  parentId: string | null,
  level: FleetAsset['level'],
  name: string,
  timeZone: string,
  path: string[],
): FleetAsset {
  return { assetId, parentId, level, name, assetType: null, criticality: null, timeZone, path };
}

interface DeviceContext {
  seed: number | string;
  deviceId: string;
  registered: boolean;
  vendor: string;
  machine: FleetAsset | null;
  site: FleetAsset | null;
  intervalS: number;
  asOf: Date;
}

function generateDevice(random: Random, c: DeviceContext): FleetDevice {
  const catalog = deviceModels[c.vendor]!;
  const fits = c.machine?.assetType ? assetTypes[c.machine.assetType]!.fits : ['temperature'];
  const primary = random.pick(fits);
  const model: DeviceModel =
    catalog.models.find((m) => m.metrics[0] === primary) ?? random.pick(catalog.models);
  const utcOffset = siteCatalog.find((s) => s.timeZone === c.site?.timeZone)?.utcOffset ?? 0;
  const metrics = model.metrics.map((metric) => fleetMetric(random.fork(metric), metric, utcOffset)) as [
    FleetMetric,
    ...FleetMetric[],
  ];
  const installedAt = new Date(
    c.asOf.getTime() - random.int(30, 900) * dayMs - random.int(0, 23) * 3_600_000,
  );
  // About one device in ten is overdue for calibration (drawn up to 10 % past its interval).
  const sinceCalibration = random.int(1, Math.round(model.calibrationIntervalDays * 1.1));
  const lastCalibratedAt = new Date(
    c.asOf.getTime() - sinceCalibration * dayMs + random.int(7, 16) * 3_600_000,
  );
  const due = new Date(lastCalibratedAt.getTime() + model.calibrationIntervalDays * dayMs);
  const serialHash = fnv1a(`${c.seed}/${c.deviceId}`).toString(16).toUpperCase().padStart(8, '0');
  return {
    deviceId: c.deviceId,
    registered: c.registered,
    vendor: c.vendor,
    manufacturer: catalog.manufacturer,
    model: model.model,
    serialNumber: `${model.model.split('-').pop()}-${serialHash}`,
    firmwareVersion: random.pick(model.firmwareVersions),
    assetId: c.machine?.assetId ?? null,
    installedAt,
    metrics,
    expectedIntervalS: c.intervalS,
    calibrationIntervalDays: model.calibrationIntervalDays,
    lastCalibratedAt,
    calibrationDue: due.toISOString().slice(0, 10),
  };
}

function fleetMetric(random: Random, metric: SimulatedMetric, utcOffset: number): FleetMetric {
  const p = metricProfiles[metric];
  return {
    metric,
    unit: p.unit,
    rangeMin: p.rangeMin,
    rangeMax: p.rangeMax,
    resolution: p.resolution,
    signal: {
      base: random.between(p.base[0], p.base[1]),
      dailyAmplitude: random.between(p.dailyAmplitude[0], p.dailyAmplitude[1]),
      // Peak around 15:00 local time, give or take an hour.
      peakHourUtc: (((15 - utcOffset + random.between(-1, 1)) % 24) + 24) % 24,
      noise: p.noise * random.between(0.7, 1.3),
      trendPerDay: random.between(p.trendPerDay[0], p.trendPerDay[1]),
      nightFactor: p.nightFactor ?? 1,
      clamp: p.clamp,
    },
  };
}

export function startOfUtcDay(date: Date): Date {
  return new Date(Math.floor(date.getTime() / dayMs) * dayMs);
}
