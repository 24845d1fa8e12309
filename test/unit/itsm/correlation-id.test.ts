import { describe, expect, it } from 'vitest';
import {
  correlationIdOf,
  decodeCorrelationPart,
  encodeCorrelationPart,
} from '../../../src/mapping/functions/correlation-id-function.ts';
import { compileMappingText } from '../../../src/mapping/index.ts';

// The correlation id rule of docs/servicenow-tickets.md, "Correlation ids".

describe('correlation ids', () => {
  it('keeps ids that were valid exactly as before, so open incidents are still found', () => {
    for (const id of ['dev-42', 'a_2F', 'pump.1:rack_B', '..odd', 'x'.repeat(60)])
      expect(encodeCorrelationPart(id)).toBe(id);
    expect(correlationIdOf(['iothub', 'dev-42', 'temperature', 'gross_range'])).toBe(
      'iothub:dev-42:temperature:gross_range',
    );
  });

  it('encodes every other character as _XX per UTF-8 byte behind a .. marker, and decodes it back', () => {
    expect(encodeCorrelationPart('G-50/fan1')).toBe('..G-50_2Ffan1');
    // Inside an encoded part the escape and the separator are escaped too, so decoding is unambiguous.
    expect(encodeCorrelationPart('a_b/c:d')).toBe('..a_5Fb_2Fc_3Ad');
    expect(encodeCorrelationPart('Tür 3')).toBe('..T_C3_BCr_203');
    for (const id of ['G-50/fan1', 'a_b/c:d', 'Tür 3', 'x^y,z=w', '温度/1', 'a..b/_2F', '/']) {
      const encoded = encodeCorrelationPart(id);
      expect(encoded).toMatch(/^[A-Za-z0-9._:-]+$/);
      expect(decodeCorrelationPart(encoded)).toBe(id);
    }
    expect(() => decodeCorrelationPart('..a_zz')).toThrow(/not an encoded/);
  });

  it('cuts ids over 100 characters to 86 plus .. and a 12-digit hash, the same for the same input', () => {
    const long = ['iothub', `line-7/${'heater-band-'.repeat(10)}`, 'temperature', 'temperature_high'];
    const id = correlationIdOf(long);
    expect(id).toHaveLength(100);
    expect(id).toMatch(/^iothub:\.\.line-7_2Fheater-band-.*\.\.[0-9a-f]{12}$/);
    expect(correlationIdOf(long)).toBe(id);
    const other = correlationIdOf([...long.slice(0, 3), 'temperature_low']);
    expect(other).toHaveLength(100);
    expect(other).not.toBe(id);
  });

  it('is the mapping function correlation_id(...), null parts empty and numbers as text', () => {
    const mapping = compileMappingText(
      `apiVersion: hub.mapping/v1
kind: OutboundMapping
id: cid
version: 1
source: { kind: alert }
target: { system: servicenow, table: incident }
fields:
  correlation_id: 'correlation_id("iothub", $.device, $.metric, $.n)'
`,
      'cid.yaml',
    );
    expect(mapping.map({ device: 'G-50/fan1', metric: null, n: 7 }).rows[0]?.correlation_id).toBe(
      'iothub:..G-50_2Ffan1::7',
    );
  });
});
