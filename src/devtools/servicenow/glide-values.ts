import { randomBytes } from 'node:crypto';

/** A new sys_id: 32 lowercase hex characters, like every real one. */
export function newSysId(): string {
  return randomBytes(16).toString('hex');
}

/** Formats epoch milliseconds as a Glide date-time: `YYYY-MM-DD HH:mm:ss` in UTC. */
export function glideDateTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('T', ' ').slice(0, 19);
}

/**
 * Turns a JSON input value into the string the instance stores: every value is a string, an unset one is "".
 * Numbers and booleans are accepted and echoed as strings (`"urgency": 3` → `"3"`).
 */
export function toGlideString(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return JSON.stringify(value);
}

/** Reads a Glide boolean input the way the platform does: true, "true" and "1" are true; anything else false. */
export function toGlideBoolean(value: string): 'true' | 'false' {
  return value === 'true' || value === '1' ? 'true' : 'false';
}
