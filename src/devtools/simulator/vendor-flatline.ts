import type { SimulatedMetric } from './metric-profiles.ts';
import { quantize } from './signal.ts';
import type { EncodedMessage, VendorFormat } from './vendor-format.ts';

// Flatline sensor hubs, telemetry v1 (mappings/telemetry-flatline-v1.yaml and
// mappings/contracts/flatline-telemetry-v1.schema.json): one flat key/value message per device and instant,
// epoch-millisecond time, a per-device sequence number, one key per metric with its US unit in the name.
//   {"dev":"dev-00002","t":1787220930123,"seq":42,"temp_f":212,"vib_in_s":0.5,"pwr_w":1520}

const psiInKpa = 6.894757293168361; // 1 psi = 6.894 757 293 168 361 kPa (NIST SP 811, B.8)

const flatlineKeys: Readonly<
  Record<SimulatedMetric, { key: string; fromCanonical: (v: number) => number; resolution: number }>
> = {
  temperature: { key: 'temp_f', fromCanonical: (c) => (c * 9) / 5 + 32, resolution: 0.01 },
  vibration: { key: 'vib_in_s', fromCanonical: (mmPerS) => mmPerS / 25.4, resolution: 0.0001 },
  pressure: { key: 'press_psi', fromCanonical: (kPa) => kPa / psiInKpa, resolution: 0.01 },
  humidity: { key: 'hum_pct', fromCanonical: (v) => v, resolution: 0.1 },
  power: { key: 'pwr_w', fromCanonical: (kW) => kW * 1000, resolution: 1 },
  battery: { key: 'batt_pct', fromCanonical: (v) => v, resolution: 1 },
};

export const flatlineFormat: VendorFormat = {
  name: 'flatline',
  mappingId: 'telemetry-flatline',
  defaultTopic: 'telemetry.flatline',
  nativeUnits: {
    temperature: '[degF]',
    vibration: '[in_i]/s',
    pressure: '[psi]',
    humidity: '%',
    power: 'W',
    battery: '%',
  },
  encode(device, tsMs, readings, sequence) {
    const payload: Record<string, unknown> = { dev: device.deviceId, t: tsMs, seq: sequence };
    for (const r of readings) {
      const k = flatlineKeys[r.metric];
      payload[k.key] = quantize(k.fromCanonical(r.value), k.resolution);
    }
    return [{ deviceId: device.deviceId, tsMs, metrics: readings.map((r) => r.metric), payload }];
  },
  redate(message, tsMs) {
    return { ...message.payload, t: tsMs };
  },
  breakSchema(message: EncodedMessage, random) {
    // Each variant keeps dev and t non-null, so the routing predicate still picks this mapping.
    const payload = { ...message.payload };
    switch (random.int(0, 2)) {
      case 0:
        payload.t = String(message.tsMs);
        return { payload, detail: 't is a string of digits instead of an integer' };
      case 1:
        // A whole second would still be an integer (and valid): nudge it off the second.
        payload.t = (message.tsMs % 1000 === 0 ? message.tsMs + 250 : message.tsMs) / 1000;
        return { payload, detail: 't is in fractional seconds instead of integer milliseconds' };
      default: {
        const key = flatlineKeys[message.metrics[0] ?? 'temperature'].key;
        payload[key] = 'ERR';
        return { payload, detail: `${key} is the text "ERR" instead of a number` };
      }
    }
  },
};
