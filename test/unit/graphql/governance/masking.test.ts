import { describe, expect, it } from 'vitest';
import { maskConfidential, maskPii } from '../../../../src/graphql/governance/index.ts';

describe('maskPii', () => {
  it('keeps only the last 2 characters', () => {
    expect(maskPii('Maria Schmidt')).toBe('***dt');
    expect(maskPii('+49 170 1234567')).toBe('***67');
  });
  it('hides short values completely and passes null through', () => {
    expect(maskPii('Li')).toBe('***');
    expect(maskPii('Anna')).toBe('***');
    expect(maskPii(null)).toBeNull();
  });
});

describe('maskConfidential', () => {
  it('gives the same hash for the same value, so masked values still group', () => {
    expect(maskConfidential('SN-100234')).toBe(maskConfidential('SN-100234'));
    expect(maskConfidential('SN-100234')).not.toBe(maskConfidential('SN-100235'));
    expect(maskConfidential('SN-100234')).toMatch(/^sha256:[0-9a-f]{16}$/);
  });
  it('is an HMAC with a secret, so guessing by hashing candidates fails', () => {
    expect(maskConfidential('SN-100234', 's3cret')).not.toBe(maskConfidential('SN-100234'));
    expect(maskConfidential(undefined, 's3cret')).toBeNull();
  });
});
