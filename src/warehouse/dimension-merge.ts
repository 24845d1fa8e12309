import { createHash } from 'node:crypto';
import type pg from 'pg';

/** The target of a DimensionMapping (`target:` of a mapping file), as the merge needs it. */
export interface DimensionTarget {
  /** `dw.dim_device`, … */
  table: string;
  naturalKey: string;
  /** Field with the time a change takes effect (SCD2 `effective_from`). */
  effectiveFrom: string;
  /** Columns whose change opens a new version. */
  tracked: readonly string[];
  /** Columns corrected in place on every version of the key. */
  type1: readonly string[];
  deletes: 'ignore' | 'close' | 'tombstone';
}

export interface DimensionMergeOutcome {
  /** New keys (first version valid from -infinity). */
  inserted: number;
  /** Inferred members completed in place: their surrogate key, and the facts loaded under it, stay. */
  completed: number;
  /** New versions opened by a change of a tracked column. */
  versioned: number;
  /** Keys whose type-1 columns were corrected on every version. */
  corrected: number;
  /** Current versions closed by a delete. */
  closed: number;
  /** Changes at or below the key's stored (commit LSN, LSN): replays, Connect restarts. Nothing changed. */
  duplicates: number;
  /** Changes that changed nothing but the stored source position. */
  unchanged: number;
  /**
   * Changes effective before the current version's start (a back-dated change, e.g. a move entered days after it
   * happened): written into the key's history at their effective time (see rebuildHistory).
   */
  late: number;
  /** Updates of a key the dimension did not know (an update before its insert): applied as its first version. */
  orphanUpdates: number;
  /** Deletes of a key the dimension does not know: nothing to close. */
  unknownDeletes: number;
}

/** The natural keys behind the counts, for work that follows a merge (src/warehouse/fact-correction.ts). */
export interface DimensionMergeKeys {
  inserted: string[];
  completed: string[];
  versioned: string[];
  /** For each versioned key, the tracked columns whose change opened a version (what follow-up work needs). */
  changed: Record<string, string[]>;
}

/** The counts, and which keys were inserted, completed or versioned. */
export interface DimensionMergeResult extends DimensionMergeOutcome {
  keys: DimensionMergeKeys;
}

type Row = Record<string, unknown>;

const columnCache = new Map<string, Set<string>>();

/**
 * Applies changes to an SCD type 2 dimension in the caller's transaction, one key at a time in the order given
 * (Debezium's order per key). Each change is a row a DimensionMapping produced, with `deleted` and the
 * source position (`source_commit_lsn`, `source_lsn`) among its fields. The database guarantees one current
 * row per key (a partial unique index) and no overlapping validity (an exclusion constraint); this decides:
 *
 * - a change at or below the key's stored position is a duplicate and changes nothing;
 * - a new key gets its first version valid from -infinity, so late readings attach to it;
 * - an inferred member (a device first seen in telemetry) is completed in place, keeping its surrogate key;
 * - a change of a tracked column closes the current version at the change's effective time and opens a new one;
 * - a change of a type-1 column is written on every version of the key;
 * - a delete closes the current version (`deletes: close`).
 *
 * Changes come in commit order per key, so an effective time before the current version's start means a
 * back-dated change (the source's effective time disagrees with its commit order): it is written into the key's
 * history at that time and counted as `late` (rebuildHistory). A change's `source_op` (c/u/d/r, when the caller
 * sets it) tells an update of an unknown key (`orphanUpdates`) from an insert.
 */
export async function mergeDimension(
  client: pg.ClientBase,
  target: DimensionTarget,
  changes: readonly Row[],
): Promise<DimensionMergeResult> {
  if (changes.length === 0) return emptyOutcome();
  const columns = await tableColumns(client, target.table);
  const nk = target.naturalKey;
  const skColumn = sk(target);
  for (const change of changes) {
    const key = change[nk];
    if (typeof key !== 'string' || key.length === 0)
      throw new Error(`${target.table}: a change without its natural key ${nk}`);
  }
  // The latest version of each of the batch's keys (the current one, or the last closed one of a deleted key),
  // locked in key order, so two appliers of overlapping keys wait for each other rather than deadlock. That is all
  // most changes need: it holds the key's highest source position and the values a change is compared with.
  // A change that rewrites history (a type-1 correction of every version, a back-dated change) asks for the
  // key's whole history, which is then locked too and the batch planned again. The plan is written with one
  // UPDATE of the existing rows and one INSERT of the new ones.
  const keys = [...new Set(changes.map((c) => c[nk] as string))].sort();
  const stored = await lockLatestVersions(client, target, keys);
  const full = new Set<string>();
  let planned = planMerge(changes, stored, full, target, columns);
  if (planned.needHistory.size > 0) {
    const needed = [...planned.needHistory].sort();
    const { rows: history } = await client.query<Row>(
      `SELECT * FROM ${target.table} WHERE ${nk} = ANY($1) ORDER BY ${nk}, valid_from FOR UPDATE`,
      [needed],
    );
    for (const key of needed) full.add(key);
    planned = planMerge(
      changes,
      [...stored.filter((r) => !full.has(r[nk] as string)), ...history],
      full,
      target,
      columns,
    );
  }
  const { outcome, byKey } = planned;

  // Existing rows first: closing a current version frees its key for the new current version inserted next.
  const updates = [...byKey.values()].flat().filter((v) => v.stored && v.dirty);
  if (updates.length > 0) {
    const set = [...columns].filter((c) => c !== skColumn);
    await client.query(
      `UPDATE ${target.table} t SET ${set.map((c) => `${c} = v.${c}`).join(', ')}
       FROM json_populate_recordset(NULL::${target.table}, $1::json) v WHERE t.${skColumn} = v.${skColumn}`,
      [toJson(updates.map((v) => v.row))],
    );
  }
  const inserts = [...byKey.values()].flat().filter((v) => !v.stored);
  if (inserts.length > 0) {
    const cols = [...new Set(inserts.flatMap((v) => Object.keys(v.row)))].filter(
      (c) => columns.has(c) && c !== skColumn,
    );
    await client.query(
      `INSERT INTO ${target.table} (${cols.join(', ')})
       SELECT ${cols.join(', ')} FROM json_populate_recordset(NULL::${target.table}, $1::json)`,
      [toJson(inserts.map((v) => v.row))],
    );
  }
  return outcome;
}

/**
 * Writes a back-dated change into a key's history: the version valid at `at` is split there (or taken whole when
 * it starts exactly then), and from `at` on every version carries the change's values of the tracked columns it
 * changed, while the columns it did not change keep their historical values (Kimball's handling of a
 * late-arriving type-2 change). The current version then holds the change's values (and `row_hash`), as the
 * source does now.
 * Facts are re-keyed by the caller (correctFactAssets reads versions by reading time).
 */
function rebuildHistory(
  versions: Version[],
  at: number,
  changed: string[],
  values: Row,
  target: DimensionTarget,
) {
  versions.sort((a, b) => ms(a.row.valid_from) - ms(b.row.valid_from));
  const set = Object.fromEntries(changed.map((c) => [c, values[c]]));
  const index = versions.findIndex((v) => ms(v.row.valid_from) <= at && at < ms(v.row.valid_to));
  if (index === -1) {
    // `at` falls between a delete and the key's return: the versions after it take the values.
    for (const v of versions) if (ms(v.row.valid_from) > at) Object.assign(v.row, set);
  } else {
    const split = versions[index]!;
    if (ms(split.row.valid_from) < at) {
      const { [sk(target)]: _sk, ...copy } = split.row;
      versions.splice(index + 1, 0, {
        row: { ...copy, valid_from: new Date(at), valid_to: split.row.valid_to, is_inferred: false },
        stored: false,
        dirty: true,
      });
      split.row.valid_to = new Date(at);
      split.row.is_current = false;
      split.dirty = true;
    }
    for (const v of versions.slice(index)) if (ms(v.row.valid_from) >= at) Object.assign(v.row, set);
  }
  for (const v of versions) {
    if (ms(v.row.valid_from) < at && v.row.is_current !== true) continue;
    if (v.row.is_current === true) Object.assign(v.row, values);
    else v.row.row_hash = rowHash(v.row, target.tracked);
    v.dirty = true;
  }
}

/** A version bound in epoch ms; ±infinity as ±Infinity. */
function ms(v: unknown): number {
  if (v === Number.POSITIVE_INFINITY || v === 'infinity') return Number.POSITIVE_INFINITY;
  if (v === Number.NEGATIVE_INFINITY || v === '-infinity') return Number.NEGATIVE_INFINITY;
  return v instanceof Date ? v.getTime() : new Date(v as string).getTime();
}

/** The merge planned in memory: every change applied to its key's versions, nothing written yet. */
interface MergePlan {
  outcome: DimensionMergeResult;
  byKey: Map<string, Version[]>;
  /** Keys whose changes need every version (only the latest was loaded). */
  needHistory: Set<string>;
}

function planMerge(
  changes: readonly Row[],
  stored: readonly Row[],
  full: ReadonlySet<string>,
  target: DimensionTarget,
  columns: Set<string>,
): MergePlan {
  const nk = target.naturalKey;
  const outcome = emptyOutcome();
  const needHistory = new Set<string>();
  const byKey = new Map<string, Version[]>();
  // Copies: a second planning pass must start from the rows as stored.
  for (const row of [...stored].sort((x, y) => ms(x.valid_from) - ms(y.valid_from))) {
    const list = byKey.get(row[nk] as string) ?? [];
    list.push({ row: { ...row }, stored: true, dirty: false });
    byKey.set(row[nk] as string, list);
  }

  for (const change of changes) {
    const key = change[nk] as string;
    const versions = byKey.get(key) ?? [];
    byKey.set(key, versions);
    if (
      isDuplicate(
        change,
        versions.map((v) => v.row),
      )
    ) {
      outcome.duplicates += 1;
      continue;
    }
    const currentVersion = versions.find((v) => v.row.is_current === true) ?? null;
    const current = currentVersion?.row ?? null;
    const values = writable(change, columns, target);
    const hash = rowHash(change, target.tracked);
    const touch = (v: Version, set: Row) => {
      Object.assign(v.row, set);
      v.dirty = true;
    };
    const open = (row: Row) =>
      versions.push({
        row: {
          ...values,
          ...row,
          valid_to: Number.POSITIVE_INFINITY,
          is_current: true,
          is_inferred: false,
          row_hash: hash,
        },
        stored: false,
        dirty: true,
      });

    if (change.deleted === true) {
      if (target.deletes === 'close' && currentVersion) {
        const at = effectiveAfter(
          change.source_updated_at ?? change[target.effectiveFrom],
          current!,
          outcome,
        );
        touch(currentVersion, {
          valid_to: at,
          is_current: false,
          source_commit_lsn: change.source_commit_lsn ?? null,
          source_lsn: change.source_lsn ?? null,
        });
        outcome.closed += 1;
      } else if (versions.length === 0) outcome.unknownDeletes += 1;
      else outcome.unchanged += 1;
      continue;
    }

    if (versions.length === 0) {
      open({ valid_from: Number.NEGATIVE_INFINITY });
      outcome.inserted += 1;
      if (change.source_op === 'u') outcome.orphanUpdates += 1;
      outcome.keys.inserted.push(key);
      continue;
    }

    if (currentVersion && current?.is_inferred === true) {
      // Completed in place: the facts loaded under the inferred member keep pointing at the right device.
      touch(currentVersion, {
        ...values,
        valid_from: current.valid_from,
        is_inferred: false,
        row_hash: hash,
      });
      outcome.completed += 1;
      outcome.keys.completed.push(key);
      continue;
    }

    const type1Changed = target.type1.some((c) => c in values && !same(values[c], current?.[c]));
    const effective = toDate(change[target.effectiveFrom]) ?? new Date();
    const backDated =
      current !== null &&
      Buffer.compare(hash, current.row_hash as Buffer) !== 0 &&
      effective.getTime() <= ms(current.valid_from);
    if ((type1Changed || backDated) && !full.has(key)) {
      // Rewrites earlier versions too: plan again with the key's whole history.
      needHistory.add(key);
      continue;
    }
    if (type1Changed) {
      const set = Object.fromEntries(target.type1.filter((c) => c in values).map((c) => [c, values[c]]));
      for (const v of versions) touch(v, set);
      outcome.corrected += 1;
    }
    if (!currentVersion) {
      // Every version closed (a delete) and the key comes back: a new current version from its effective time.
      const last = versions.at(-1)!.row;
      open({ valid_from: laterThan(change[target.effectiveFrom], last.valid_to as Date) });
      outcome.versioned += 1;
      outcome.keys.versioned.push(key);
      outcome.keys.changed[key] = [...target.tracked];
      continue;
    }
    if (Buffer.compare(hash, current!.row_hash as Buffer) !== 0) {
      const changed = target.tracked.filter((c) => c in values && !same(values[c], current![c]));
      if (backDated) {
        rebuildHistory(versions, effective.getTime(), changed, { ...values, row_hash: hash }, target);
        outcome.late += 1;
        outcome.versioned += 1;
        if (!outcome.keys.versioned.includes(key)) outcome.keys.versioned.push(key);
        outcome.keys.changed[key] = [...new Set([...(outcome.keys.changed[key] ?? []), ...changed])];
        continue;
      }
      const at = effective;
      touch(currentVersion, { valid_to: at, is_current: false });
      open({ valid_from: at });
      outcome.versioned += 1;
      if (!outcome.keys.versioned.includes(key)) outcome.keys.versioned.push(key);
      outcome.keys.changed[key] = [...new Set([...(outcome.keys.changed[key] ?? []), ...changed])];
      continue;
    }
    // Same tracked values: remember the position so a replay of this change is recognised.
    touch(currentVersion, {
      source_commit_lsn: change.source_commit_lsn ?? null,
      source_lsn: change.source_lsn ?? null,
      source_updated_at: values.source_updated_at ?? current!.source_updated_at ?? null,
    });
    if (!type1Changed) outcome.unchanged += 1;
  }

  return { outcome, byKey, needHistory };
}

function emptyOutcome(): DimensionMergeResult {
  return {
    inserted: 0,
    completed: 0,
    versioned: 0,
    corrected: 0,
    closed: 0,
    duplicates: 0,
    unchanged: 0,
    late: 0,
    orphanUpdates: 0,
    unknownDeletes: 0,
    keys: { inserted: [], completed: [], versioned: [], changed: {} },
  };
}

/**
 * Locks and returns each key's current version, and for a key without one (deleted) its last closed version:
 * the version with the key's highest source position and latest values.
 */
async function lockLatestVersions(
  client: pg.ClientBase,
  target: DimensionTarget,
  keys: string[],
): Promise<Row[]> {
  const nk = target.naturalKey;
  const { rows: current } = await client.query<Row>(
    `SELECT * FROM ${target.table} WHERE ${nk} = ANY($1) AND is_current ORDER BY ${nk} FOR UPDATE`,
    [keys],
  );
  const found = new Set(current.map((r) => r[nk] as string));
  const closedKeys = keys.filter((k) => !found.has(k));
  if (closedKeys.length === 0) return current;
  const { rows: closed } = await client.query<Row>(
    `SELECT * FROM ${target.table} t WHERE ${nk} = ANY($1)
       AND valid_to = (SELECT max(valid_to) FROM ${target.table} l WHERE l.${nk} = t.${nk})
     ORDER BY ${nk} FOR UPDATE`,
    [closedKeys],
  );
  return [...current, ...closed];
}

/** One version of a key while a batch is planned: a stored row (changed or not) or a new one. */
interface Version {
  row: Row;
  stored: boolean;
  dirty: boolean;
}

/** Rows as JSON PostgreSQL reads back exactly: ±infinity timestamps, ISO times, bytea as \\x hex. */
function toJson(rows: Row[]): string {
  return JSON.stringify(rows, function (this: Row, key: string, value: unknown) {
    const raw = this[key];
    if (raw === Number.POSITIVE_INFINITY) return 'infinity';
    if (raw === Number.NEGATIVE_INFINITY) return '-infinity';
    if (raw instanceof Date) return raw.toISOString();
    if (Buffer.isBuffer(raw)) return `\\x${raw.toString('hex')}`;
    return value;
  });
}

/** The surrogate key column: dim_device → device_sk. */
function sk(target: DimensionTarget): string {
  return target.naturalKey.replace(/_nk$/, '_sk');
}

/** At or below the highest (commit LSN, LSN) the key has stored: already applied. */
function isDuplicate(change: Row, versions: readonly Row[]): boolean {
  const commit = toBig(change.source_commit_lsn);
  const lsn = toBig(change.source_lsn);
  if (commit === null || lsn === null) return false;
  for (const v of versions) {
    const vc = toBig(v.source_commit_lsn);
    const vl = toBig(v.source_lsn);
    if (vc === null || vl === null) continue;
    if (commit < vc || (commit === vc && lsn <= vl)) return true;
  }
  return false;
}

function toBig(v: unknown): bigint | null {
  if (v === null || v === undefined || v === '') return null;
  try {
    return BigInt(v as string | number);
  } catch {
    return null;
  }
}

/** The change's values for columns the table has; the SCD bookkeeping columns are the merge's own. */
function writable(change: Row, columns: Set<string>, target: DimensionTarget): Row {
  const own = new Set(['valid_from', 'valid_to', 'is_current', 'is_inferred', 'row_hash', sk(target)]);
  const out: Row = {};
  for (const [c, v] of Object.entries(change)) if (columns.has(c) && !own.has(c)) out[c] = v;
  return out;
}

/** sha256 of the tracked columns' values, in the mapping's order. */
export function rowHash(change: Row, tracked: readonly string[]): Buffer {
  const values = tracked.map((c) => {
    const v = change[c];
    return v instanceof Date ? v.toISOString() : (v ?? null);
  });
  return createHash('sha256').update(JSON.stringify(values)).digest();
}

function same(a: unknown, b: unknown): boolean {
  const norm = (v: unknown) => (v instanceof Date ? v.toISOString() : v === undefined ? null : v);
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

function toDate(v: unknown): Date | null {
  if (v === null || v === undefined) return null;
  const d = v instanceof Date ? v : new Date(v as string | number);
  return Number.isFinite(d.getTime()) ? d : null;
}

/** The change's effective time, or just after the current version's start when it is not later. */
function effectiveAfter(value: unknown, current: Row, outcome: DimensionMergeOutcome): Date {
  const at = toDate(value) ?? new Date();
  const start = current.valid_from as Date | number;
  const startMs = start instanceof Date ? start.getTime() : start;
  if (Number.isFinite(startMs) && at.getTime() <= startMs) {
    outcome.late += 1;
    return new Date(startMs + 1);
  }
  return at;
}

function laterThan(value: unknown, after: Date): Date {
  const at = toDate(value) ?? new Date();
  return at.getTime() > after.getTime() ? at : new Date(after.getTime() + 1);
}

async function tableColumns(client: pg.ClientBase, table: string): Promise<Set<string>> {
  const cached = columnCache.get(table);
  if (cached) return cached;
  const [schema, name] = table.includes('.') ? table.split('.') : ['public', table];
  const { rows } = await client.query<{ column_name: string }>(
    'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
    [schema, name],
  );
  if (rows.length === 0) throw new Error(`${table}: no such table`);
  const set = new Set(rows.map((r) => r.column_name));
  columnCache.set(table, set);
  return set;
}

const identifier = /^[a-z_][a-z0-9_]*$/;

/**
 * The SCD2 target of a DimensionMapping's `target:`, checked: a `schema.table` name, a natural key column,
 * `scd.type: 2` with its `effective_from`. Throws an error naming the mapping file and what to write.
 */
export function dimensionTarget(mapping: {
  id: string;
  file: string;
  target: {
    table?: string;
    natural_key?: string | string[];
    scd?: { type: 1 | 2; effective_from?: string; tracked?: string[]; type1?: string[]; deletes?: string };
  };
}): DimensionTarget {
  const where = `${mapping.file} (mapping ${mapping.id})`;
  const { table, natural_key: nk, scd } = mapping.target;
  const parts = table?.split('.') ?? [];
  if (parts.length !== 2 || !parts.every((p) => identifier.test(p)))
    throw new Error(`${where}: target.table must be schema.table in lower case, e.g. dw.dim_device`);
  if (typeof nk !== 'string' || !identifier.test(nk) || !nk.endsWith('_nk'))
    throw new Error(`${where}: target.natural_key must be one column named <name>_nk, e.g. device_nk`);
  if (scd?.type !== 2)
    throw new Error(`${where}: target.scd.type must be 2 for a dimension merged from change events`);
  const cols = [...(scd.tracked ?? []), ...(scd.type1 ?? [])];
  const bad = cols.find((c) => !identifier.test(c));
  if (bad) throw new Error(`${where}: target.scd column '${bad}' is not a column name`);
  const deletes = scd.deletes ?? 'close';
  if (deletes !== 'ignore' && deletes !== 'close' && deletes !== 'tombstone')
    throw new Error(`${where}: target.scd.deletes must be ignore, close or tombstone`);
  return {
    table: table!,
    naturalKey: nk,
    effectiveFrom: scd.effective_from ?? 'valid_from',
    tracked: scd.tracked ?? [],
    type1: scd.type1 ?? [],
    deletes,
  };
}
