import { createHash, createHmac } from 'node:crypto';

/** PII mask: "***" plus the last 2 characters, enough to tell values apart without revealing them. */
export function maskPii(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = String(value);
  return `***${text.length > 4 ? text.slice(-2) : ''}`;
}

/**
 * CONFIDENTIAL mask: a stable hash, so masked values still group and join (the same serial number gives the
 * same hash). With a secret it is an HMAC, so short values cannot be recovered by hashing guesses.
 */
export function maskConfidential(value: unknown, secret?: string): string | null {
  if (value === null || value === undefined) return null;
  const text = String(value);
  const digest = secret
    ? createHmac('sha256', secret).update(text).digest('hex')
    : createHash('sha256').update(text).digest('hex');
  return `sha256:${digest.slice(0, 16)}`;
}
