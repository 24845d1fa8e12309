import type { SimulatedMetric } from './metric-profiles.ts';
import { quantize } from './signal.ts';
import type { EncodedMessage, VendorFormat } from './vendor-format.ts';

// Acme gateways, payload schema acme.telemetry v2 (mappings/telemetry-acme-v2.yaml and
// mappings/contracts/acme-telemetry-v2.schema.json): one message per device and instant, ISO-8601 UTC
// timestamp with milliseconds, US customary units where Acme uses them.
//   {"schema":"acme.telemetry","v":2,"deviceId":"dev-00001","ts":"2026-08-20T10:15:30.123Z",
//    "readings":[{"m":"TEMP","v":73.9,"u":"degF","q":"good"}]}

const psiInKpa = 6.894757293168361; // 1 psi = 6.894 757 293 168 361 kPa (NIST SP 811, B.8)

/** Acme's metric code, unit spelling and conversion from the canonical unit, per metric. */
const acmeUnits: Readonly<
  Record<
    SimulatedMetric,
    { code: string; unit: string; fromCanonical: (v: number) => number; resolution: number }
  >
> = {
  temperature: { code: 'TEMP', unit: 'degF', fromCanonical: (c) => (c * 9) / 5 + 32, resolution: 0.01 },
  vibration: { code: 'VIB', unit: 'in/s', fromCanonical: (mmPerS) => mmPerS / 25.4, resolution: 0.0001 },
  pressure: { code: 'PRESS', unit: 'psi', fromCanonical: (kPa) => kPa / psiInKpa, resolution: 0.01 },
  humidity: { code: 'HUM', unit: '%', fromCanonical: (v) => v, resolution: 0.1 },
  power: { code: 'PWR', unit: 'kW', fromCanonical: (v) => v, resolution: 0.01 },
  battery: { code: 'BATT', unit: '%', fromCanonical: (v) => v, resolution: 1 },
};

export const acmeFormat: VendorFormat = {
  name: 'acme',
  mappingId: 'telemetry-acme',
  defaultTopic: 'telemetry.acme',
  nativeUnits: {
    temperature: '[degF]',
    vibration: '[in_i]/s',
    pressure: '[psi]',
    humidity: '%',
    power: 'kW',
    battery: '%',
  },
  encode(device, tsMs, readings) {
    const payload = {
      schema: 'acme.telemetry',
      v: 2,
      deviceId: device.deviceId,
      ts: new Date(tsMs).toISOString(),
      readings: readings.map((r) => {
        const u = acmeUnits[r.metric];
        return { m: u.code, v: quantize(u.fromCanonical(r.value), u.resolution), u: u.unit, q: r.quality };
      }),
    };
    return [{ deviceId: device.deviceId, tsMs, metrics: readings.map((r) => r.metric), payload }];
  },
  redate(message, tsMs) {
    return { ...message.payload, ts: new Date(tsMs).toISOString() };
  },
  breakSchema(message: EncodedMessage, random) {
    // Each variant keeps schema and v, so the routing predicate still picks this mapping.
    const payload = structuredClone(message.payload);
    switch (random.int(0, 3)) {
      case 0:
        delete payload.deviceId;
        return { payload, detail: 'required property deviceId is missing' };
      case 1:
        payload.ts = message.tsMs;
        return { payload, detail: 'ts is an epoch number instead of an ISO-8601 string' };
      case 2:
        payload.readings = Object.fromEntries(
          (payload.readings as Array<{ m: string }>).map((r) => [r.m, r] as const),
        );
        return { payload, detail: 'readings is an object keyed by metric code instead of an array' };
      default: {
        const readings = payload.readings as Array<Record<string, unknown>>;
        delete readings[0]!.u;
        return { payload, detail: 'the first reading has no unit (u)' };
      }
    }
  },
};
