import { createKnex } from '../../db/index.ts';
import type { Fleet, FleetDevice } from './fleet-types.ts';
import { createRandom, type Random } from './random.ts';
import { cmmsDatabaseUrl, migrateCmms } from './source-schemas.ts';

const minuteMs = 60_000;

/** Writes seedCmms made: work orders inserted and status transitions applied (rerunning a run makes none). */
export interface SeedCmmsResult {
  workOrders: number;
  transitions: number;
}

/** The run a simulation's work orders are planned for. */
export interface CmmsPlanInput {
  fleet: Fleet;
  seed: number | string;
  startMs: number;
  endMs: number;
  /**
   * Devices to keep out of maintenance: those with a process excursion, whose alert the ground truth expects (an
   * open work order suppresses a device's alerts).
   */
  avoidDevices?: readonly string[];
}

/** One planned work order and the simulated times of its transitions. */
export interface PlannedWorkOrder {
  woNumber: string;
  deviceId: string;
  assetId: string | null;
  woType: 'PM' | 'CAL' | 'CM';
  summary: string;
  technician: string;
  downtimeMin: number | null;
  openedAt: Date;
  inProgressAt: Date;
  /** Null when the work is still in progress at the window's end. */
  completedAt: Date | null;
}

const kinds = [
  { woType: 'PM', summary: 'Preventive maintenance: inspect seals, lubricate bearings', downtime: true },
  { woType: 'CAL', summary: 'Calibration against the reference probe', downtime: false },
  { woType: 'CM', summary: 'Corrective repair after an operator report', downtime: true },
] as const;
const technicians = ['j.meyer', 'a.novak', 'r.silva', 'k.tanaka'];

/**
 * Plans one preventive, one calibration and one corrective work order on distinct registered devices (fewer
 * when the fleet has fewer), opened within the window's first half and moving OPEN → IN_PROGRESS → DONE
 * minutes later; one that would finish after the window stays IN_PROGRESS. A pure function of `input`.
 */
export function planWorkOrders(input: CmmsPlanInput): PlannedWorkOrder[] {
  const random = createRandom(input.seed).fork('cmms');
  const avoid = new Set(input.avoidDevices ?? []);
  const registered = input.fleet.devices.filter((d) => d.registered);
  const free = registered.filter((d) => !avoid.has(d.deviceId));
  const devices = free.length > 0 ? free : registered;
  const chosen = pickDistinct(random, devices, kinds.length);
  const spanMs = input.endMs - input.startMs;
  return chosen.map((device, i) => {
    const kind = kinds[i]!;
    const openedMs = atMinute(input.startMs + random.between(0.05, 0.5) * spanMs);
    const inProgressMs = openedMs + random.int(5, 20) * minuteMs;
    const completedMs = inProgressMs + random.int(15, 60) * minuteMs;
    const done = completedMs <= input.endMs;
    return {
      woNumber: `WO-${device.deviceId}-${new Date(openedMs).toISOString().slice(0, 16).replace(/[-:T]/g, '')}`,
      deviceId: device.deviceId,
      assetId: device.assetId,
      woType: kind.woType,
      summary: kind.summary,
      technician: random.pick(technicians),
      downtimeMin: kind.downtime && done ? (completedMs - inProgressMs) / minuteMs : null,
      openedAt: new Date(openedMs),
      inProgressAt: new Date(inProgressMs),
      completedAt: done ? new Date(completedMs) : null,
    };
  });
}

/**
 * Writes the planned work orders into the sample CMMS database on the server of `serverUrl` (only the source
 * system: the hub learns them through Debezium and the CDC stage), migrating its schema first. Each transition is
 * its own transaction, so CDC sees an insert (OPEN) and one update per status, dated at simulated times
 * (updated_at) although written at once. A transition already made is not made again, so rerunning the same run
 * changes nothing. Connection errors propagate.
 */
export async function seedCmms(serverUrl: string, input: CmmsPlanInput): Promise<SeedCmmsResult> {
  await migrateCmms(serverUrl);
  const knex = createKnex(cmmsDatabaseUrl(serverUrl), 1);
  const result: SeedCmmsResult = { workOrders: 0, transitions: 0 };
  try {
    for (const wo of planWorkOrders(input)) {
      const opened = await knex.raw(
        `INSERT INTO public.work_order (wo_number, device_id, asset_id, wo_type, status, opened_at, summary, technician,
           updated_at)
         VALUES (?, ?, ?, ?, 'OPEN', ?, ?, ?, ?) ON CONFLICT (wo_number) DO NOTHING`,
        [
          wo.woNumber,
          wo.deviceId,
          wo.assetId,
          wo.woType,
          wo.openedAt,
          wo.summary,
          wo.technician,
          wo.openedAt,
        ],
      );
      result.workOrders += opened.rowCount ?? 0;
      const started = await knex.raw(
        `UPDATE public.work_order SET status = 'IN_PROGRESS', updated_at = ? WHERE wo_number = ? AND status = 'OPEN'`,
        [wo.inProgressAt, wo.woNumber],
      );
      result.transitions += started.rowCount ?? 0;
      if (!wo.completedAt) continue;
      const done = await knex.raw(
        `UPDATE public.work_order SET status = 'DONE', completed_at = ?, downtime_min = ?, updated_at = ?
         WHERE wo_number = ? AND status = 'IN_PROGRESS'`,
        [wo.completedAt, wo.downtimeMin, wo.completedAt, wo.woNumber],
      );
      result.transitions += done.rowCount ?? 0;
    }
    return result;
  } finally {
    await knex.destroy();
  }
}

function pickDistinct(random: Random, devices: readonly FleetDevice[], n: number): FleetDevice[] {
  const pool = [...devices];
  const chosen: FleetDevice[] = [];
  while (chosen.length < n && pool.length > 0)
    chosen.push(pool.splice(random.int(0, pool.length - 1), 1)[0]!);
  return chosen;
}

function atMinute(ms: number): number {
  return Math.floor(ms / minuteMs) * minuteMs;
}
