import type { RecordStore, StoredRow } from './record-store.ts';

/** The sys_id of the base Hardware Rule identifier entry, as in ServiceNow's documented example answer. */
export const hardwareRuleEntrySysId = '556eb250c3400200d8d4bea192d3ae92';

export interface IdentificationAttempt {
  identifierName: string;
  attemptResult: 'MATCHED' | 'NO_MATCH' | 'SKIPPED' | 'MULTI_MATCH';
  attributes: string[];
  searchOnTable: string;
  hybridEntryCiAttributes: string[];
}

export interface IreLookup {
  className?: string;
  values?: Record<string, unknown>;
}

export interface Identification {
  attempts: IdentificationAttempt[];
  /** The matched CI; with MULTI_MATCH the oldest of the matches. Undefined when nothing matched. */
  match: StoredRow | undefined;
  /** True when no attempt could run: the item lacks every identifying attribute. */
  missingAttributes: boolean;
}

/**
 * The Hardware Rule: serial_number + serial_number_type on `cmdb_serial_number` (from `lookup`), then
 * serial_number on `cmdb_ci_hardware`, then name on `cmdb_ci_hardware`; the first attempt that matches wins.
 * Only classes under `cmdb_ci_hardware` have a rule here.
 */
export function identifyHardware(
  store: RecordStore,
  values: Record<string, string>,
  lookup: readonly IreLookup[],
): Identification {
  const attempts: IdentificationAttempt[] = [];
  const hardware = store.list('cmdb_ci_hardware');
  const serialLookup = lookup.find((l) => l.className === 'cmdb_serial_number')?.values ?? {};
  const lookupSerial = String(serialLookup.serial_number ?? '');
  const lookupType = String(serialLookup.serial_number_type ?? '');

  const steps: Array<{ attributes: string[]; table: string; candidates: () => StoredRow[] | undefined }> = [
    {
      attributes: ['serial_number', 'serial_number_type'],
      table: 'cmdb_serial_number',
      candidates: () => {
        if (lookupSerial === '' || lookupType === '') return undefined;
        const ids = store
          .list('cmdb_serial_number')
          .filter(
            (s) => s.values.serial_number === lookupSerial && s.values.serial_number_type === lookupType,
          )
          .map((s) => s.values.cmdb_ci);
        return hardware.filter((ci) => ids.includes(ci.values.sys_id));
      },
    },
    {
      attributes: ['serial_number'],
      table: 'cmdb_ci_hardware',
      candidates: () =>
        values.serial_number
          ? hardware.filter((ci) => ci.values.serial_number === values.serial_number)
          : undefined,
    },
    {
      attributes: ['name'],
      table: 'cmdb_ci_hardware',
      candidates: () => (values.name ? hardware.filter((ci) => ci.values.name === values.name) : undefined),
    },
  ];

  let ran = false;
  for (const step of steps) {
    const candidates = step.candidates();
    ran ||= candidates !== undefined;
    const attemptResult =
      candidates === undefined
        ? 'SKIPPED'
        : candidates.length === 0
          ? 'NO_MATCH'
          : candidates.length === 1
            ? 'MATCHED'
            : 'MULTI_MATCH';
    attempts.push({
      identifierName: 'Hardware Rule',
      attemptResult,
      attributes: step.attributes,
      searchOnTable: step.table,
      hybridEntryCiAttributes: [],
    });
    // Rows are kept oldest first, so [0] is the oldest match.
    if (candidates && candidates.length > 0)
      return { attempts, match: candidates[0], missingAttributes: false };
  }
  return { attempts, match: undefined, missingAttributes: !ran };
}
