/**
 * Fault kinds the simulator can inject, and what each rate means:
 * - per series (device × metric), once: `drift` (the sensor drifts from a random instant to the end);
 * - per reading slot, starting an episode: `stuck` (per series, 1–6 h flat), `gap` (per device, 20 min–4 h
 *   of nothing sent);
 * - per reading: `spike`, `out_of_range` (beyond the device's spec range);
 * - per message: `malformed` (half broken JSON, half schema-invalid JSON), `duplicate` (exact re-send),
 *   `out_of_order` (held back behind 1–5 newer messages of its device), `late` (sent 1–6 h after its
 *   timestamp), `future` (timestamp 1–30 days ahead: beyond any future_skew, so dead-lettered);
 * - per registered device: `unknown_device` (extra devices, not in MDM, at least one when the rate is > 0).
 */
export type FaultKind =
  | 'drift'
  | 'stuck'
  | 'gap'
  | 'spike'
  | 'out_of_range'
  | 'malformed'
  | 'duplicate'
  | 'out_of_order'
  | 'late'
  | 'future'
  | 'unknown_device';

export const faultKinds: readonly FaultKind[] = [
  'drift',
  'stuck',
  'gap',
  'spike',
  'out_of_range',
  'malformed',
  'duplicate',
  'out_of_order',
  'late',
  'future',
  'unknown_device',
];

/** Rate per fault kind, each in [0, 1]; a missing kind is 0 (not injected). */
export type FaultRates = Partial<Record<FaultKind, number>>;

/**
 * Parses `drift=0.01,malformed=0.001,out-of-order=0.002` (hyphens or underscores). An empty string gives {}.
 * Throws RangeError naming the entry for an unknown kind or a rate outside [0, 1].
 */
export function parseFaultRates(text: string): FaultRates {
  const rates: FaultRates = {};
  for (const entry of text.split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    const [rawName, rawRate, ...rest] = entry.split('=');
    const name = rawName!.trim().replaceAll('-', '_') as FaultKind;
    if (!faultKinds.includes(name)) {
      throw new RangeError(`--faults: unknown fault '${rawName}'; known: ${faultKinds.join(', ')}`);
    }
    const rate = Number(rawRate);
    if (rest.length > 0 || rawRate === undefined || rawRate.trim() === '' || !(rate >= 0 && rate <= 1)) {
      throw new RangeError(`--faults: '${entry}' needs a rate between 0 and 1, e.g. ${name}=0.01`);
    }
    rates[name] = rate;
  }
  return rates;
}

/** Throws RangeError when a programmatic FaultRates holds an unknown kind or a rate outside [0, 1]. */
export function checkFaultRates(rates: FaultRates): void {
  for (const [name, rate] of Object.entries(rates)) {
    if (!faultKinds.includes(name as FaultKind)) {
      throw new RangeError(`faults: unknown fault '${name}'; known: ${faultKinds.join(', ')}`);
    }
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
      throw new RangeError(`faults: ${name} must be a rate between 0 and 1, got ${String(rate)}`);
    }
  }
}
