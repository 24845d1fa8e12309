import type { ServiceNowEmulator } from '../../src/devtools/servicenow/index.ts';
import type { AlertEvent } from '../../src/quality/index.ts';

// The alert storm of docs/servicenow-tickets.md, "Benchmark" (tests and `npm run bench -- tickets`) and the
// checker that reads the emulator's incidents and journal back: exactly one incident per key, every repeat
// reported once, escalations once.

export interface StormOptions {
  /** Distinct alert keys (devices). */
  keys: number;
  /** Raises per key; the first opens the alert, the rest are repeats. */
  perKey: number;
  /** Every n-th key gets one `fail` raise in the middle, which escalates it; 0 for none. */
  escalateEvery: number;
  /** Device id prefix, unique per run so runs do not see each other's incidents. */
  prefix: string;
  seed?: number;
}

export interface StormKey {
  deviceId: string;
  correlationId: string;
  escalated: boolean;
}

export interface Storm {
  events: AlertEvent[];
  keys: StormKey[];
}

export const stormRule = 'temperature_high';
export const stormMetric = 'temperature';

/** Builds the storm: per key a fixed sequence of raises, keys interleaved at random (seeded). */
export function buildStorm(options: StormOptions): Storm {
  let state = (options.seed ?? 42) >>> 0;
  const random = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const keys: StormKey[] = [];
  const queues: AlertEvent[][] = [];
  for (let k = 0; k < options.keys; k++) {
    const deviceId = `${options.prefix}-${String(k).padStart(4, '0')}`;
    const escalated = options.escalateEvery > 0 && k % options.escalateEvery === 0;
    keys.push({ deviceId, escalated, correlationId: `iothub:${deviceId}:${stormMetric}:${stormRule}` });
    const list: AlertEvent[] = [];
    for (let i = 0; i < options.perKey; i++) {
      const fail = escalated && i === Math.floor(options.perKey / 2);
      list.push({
        kind: 'raise',
        deviceId,
        rule: stormRule,
        metric: stormMetric,
        severity: fail ? 'fail' : 'warn',
        evidence: { value: 80 + i / 10, threshold: 80, unit: 'Cel', window: '300s', seq: i },
      });
    }
    queues.push(list);
  }
  const events: AlertEvent[] = [];
  const live = queues.map((_, i) => i);
  while (live.length > 0) {
    const pick = Math.floor(random() * live.length);
    const q = queues[live[pick]!]!;
    events.push(q.shift()!);
    if (q.length === 0) live.splice(pick, 1);
  }
  return { events, keys };
}

export interface StormCheck {
  incidents: number;
  /** Extra incidents beyond one per key. */
  duplicates: number;
  /** Keys without an incident. */
  lost: number;
  /** One sentence per key whose incident's fields or work notes are wrong. */
  problems: string[];
}

/**
 * Reads the emulator back. Per key: one incident; exactly one opening note; every note's marker distinct (a
 * resent note would repeat it); the "Repeated N more time(s)" counts adding up to perKey − 1; one escalation
 * note and urgency 1 for escalated keys, none and urgency 2 for the others.
 */
export function checkStorm(sn: ServiceNowEmulator, storm: Storm, perKey: number): StormCheck {
  const byCorrelation = new Map<string, ReturnType<ServiceNowEmulator['records']>>();
  for (const inc of sn.records('incident')) {
    const list = byCorrelation.get(inc.correlation_id ?? '') ?? [];
    list.push(inc);
    byCorrelation.set(inc.correlation_id ?? '', list);
  }
  const result: StormCheck = { incidents: 0, duplicates: 0, lost: 0, problems: [] };
  for (const key of storm.keys) {
    const list = byCorrelation.get(key.correlationId) ?? [];
    result.incidents += list.length;
    if (list.length === 0) {
      result.lost += 1;
      continue;
    }
    result.duplicates += list.length - 1;
    const inc = list[0]!;
    const notes = sn.journal(inc.sys_id, 'work_notes').map((e) => String(e.value ?? ''));
    const openings = notes.filter((n) => n.includes('Opened by IoT hub')).length;
    const markers = notes.map((n) => /\(iot-hub alert \d+ rev \d+\)/.exec(n)?.[0] ?? 'none');
    const repeats = notes.reduce(
      (sum, n) => sum + [...n.matchAll(/Repeated (\d+) more time/g)].reduce((s, m) => s + Number(m[1]), 0),
      0,
    );
    const escalations = notes.filter((n) => n.includes('Escalated by IoT hub')).length;
    const wrong: string[] = [];
    if (openings !== 1) wrong.push(`${openings} opening notes`);
    if (new Set(markers).size !== markers.length || markers.includes('none'))
      wrong.push(`markers ${markers.join(' ')}`);
    if (repeats !== perKey - 1) wrong.push(`repeats reported ${repeats}, expected ${perKey - 1}`);
    if (escalations !== (key.escalated ? 1 : 0)) wrong.push(`${escalations} escalation notes`);
    const urgency = key.escalated ? '1' : '2';
    if (inc.urgency !== urgency) wrong.push(`urgency ${inc.urgency}, expected ${urgency}`);
    if (wrong.length > 0) result.problems.push(`${key.correlationId} (${inc.number}): ${wrong.join('; ')}`);
  }
  return result;
}
