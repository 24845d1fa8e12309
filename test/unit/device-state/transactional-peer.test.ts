import { describe, expect, it } from 'vitest';
import { PeerLedger } from '../../../src/devtools/transactional-peer.ts';

const event = (device: string, seq: number, type = 'online', extra: Record<string, unknown> = {}) =>
  JSON.stringify({ device_id: device, type, seq, value: 'online', at: '2026-12-01T00:00:00Z', ...extra });

describe('PeerLedger', () => {
  it('applies each event once by outbox id and counts redeliveries', () => {
    const ledger = new PeerLedger();
    expect(ledger.receive('id-1', 'd1', event('d1', 1))).toBe('applied');
    expect(ledger.receive('id-1', 'd1', event('d1', 1))).toBe('duplicate');
    expect(ledger.receive('id-2', 'd1', event('d1', 2, 'offline'))).toBe('applied');
    expect(ledger.duplicates).toBe(1);
    expect(ledger.eventsOf('d1').map((e) => [e.seq, e.type, e.previous])).toEqual([
      [1, 'online', null],
      [2, 'offline', null],
    ]);
  });

  it('refuses an event out of sequence per device and names it', () => {
    const ledger = new PeerLedger();
    ledger.receive('a', 'd1', event('d1', 1));
    ledger.receive('b', 'd2', event('d2', 1));
    expect(ledger.receive('c', 'd1', event('d1', 3, 'health_changed'))).toBe('out_of_order');
    expect(ledger.problems).toEqual([
      {
        outcome: 'out_of_order',
        deviceId: 'd1',
        detail: 'device d1: event c (health_changed) has seq 3, expected 2',
      },
    ]);
    // The refused event was not applied: its redelivery in order later is applied.
    expect(ledger.receive('d', 'd1', event('d1', 2))).toBe('applied');
    expect(ledger.receive('c', 'd1', event('d1', 3, 'health_changed'))).toBe('applied');
  });

  it('refuses messages that are not device events, saying why', () => {
    const ledger = new PeerLedger();
    expect(ledger.receive(undefined, 'd1', event('d1', 1))).toBe('invalid');
    expect(ledger.receive('x', 'd1', '{not json')).toBe('invalid');
    expect(ledger.receive('y', 'd2', event('d1', 1))).toBe('invalid');
    expect(ledger.problems.map((p) => p.detail)).toEqual([
      'a device.state message needs an id header and a value',
      expect.stringMatching(/^event x is not JSON: /),
      'event y is keyed d2 but is about device d1',
    ]);
    expect(ledger.applied).toEqual([]);
  });
});
