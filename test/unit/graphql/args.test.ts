import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, firstArg, timeRange } from '../../../src/graphql/args.ts';
import { fieldColumns } from '../../../src/graphql/index.ts';

describe('graphql arguments', () => {
  it('round-trips a readings cursor with the microseconds PostgreSQL prints', () => {
    const cursor = { ts: '2026-12-01 10:00:00.123456+00', metricSk: 3, deviceSk: 42 };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it('refuses a cursor it did not make, saying what to pass', () => {
    const forged = Buffer.from(JSON.stringify(["now'; DROP TABLE x", 1, 2])).toString('base64url');
    for (const after of ['xyz', forged])
      expect(() => decodeCursor(after)).toThrow(
        `after: '${after}' is not a cursor of this connection; pass pageInfo.endCursor of the previous page`,
      );
  });

  it('checks first and time ranges', () => {
    expect(firstArg(undefined)).toBe(100);
    expect(firstArg(1000)).toBe(1000);
    expect(() => firstArg(0)).toThrow('first must be between 1 and 1000, got 0');
    expect(() => timeRange(new Date('2026-12-02'), new Date('2026-12-01'))).toThrow(
      'from (2026-12-02T00:00:00.000Z) must be before to (2026-12-01T00:00:00.000Z)',
    );
  });

  it('maps every lineage field to a schema-qualified column', () => {
    for (const [field, { table, column }] of Object.entries(fieldColumns)) {
      expect(field).toMatch(/^[A-Z]\w+\.\w+$/);
      expect(table).toMatch(/^(dw|hub|servicenow)[.:]\w+$/);
      expect(column).toMatch(/^[a-z_]+$/);
    }
  });
});
