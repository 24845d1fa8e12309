import { describe, expect, it } from 'vitest';
import { RecoveringCondition } from '../../../src/itsm/recovering-condition.ts';
import { captureLogger } from '../../support/capture-logger.ts';

describe('recovering condition', () => {
  it('logs one warning when failures start and one info line with counts once successes settle', async () => {
    const { logger, lines } = captureLogger();
    const condition = new RecoveringCondition({
      logger,
      name: 'ServiceNow',
      startMessage: 'ServiceNow is failing',
      endMessage: 'ServiceNow answers again',
      quietMs: 50,
    });
    for (let i = 0; i < 100; i++) condition.fail(i % 3 === 0 ? 'network' : 'server', { status: 503 });
    condition.ok(); // too soon after the last failure: still on
    expect(condition.active).toBe(true);
    condition.fail('rate_limited');
    condition.ok();
    while (condition.active) await new Promise((r) => setTimeout(r, 10));
    expect(lines.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual(['ServiceNow is failing']);
    const ended = lines.filter((l) => l.level === 30);
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({
      msg: 'ServiceNow answers again',
      failures: 101,
      byKind: { network: 34, server: 66, rate_limited: 1 },
    });
    expect(lines.filter((l) => l.level === 20)).toHaveLength(100);
    // A new outage is a new warning.
    condition.fail('network');
    expect(lines.filter((l) => l.level === 40)).toHaveLength(2);
    condition.close();
  });

  it('stays on while failures keep coming, whatever successes come between', async () => {
    const { logger, lines } = captureLogger();
    const condition = new RecoveringCondition({
      logger,
      name: 'x',
      startMessage: 'down',
      endMessage: 'up',
      quietMs: 40,
    });
    for (let i = 0; i < 5; i++) {
      condition.fail('server');
      condition.ok();
      await new Promise((r) => setTimeout(r, 15));
    }
    expect(condition.active).toBe(true);
    await new Promise((r) => setTimeout(r, 60));
    expect(condition.active).toBe(false);
    expect(lines.filter((l) => l.level >= 30).map((l) => l.msg)).toEqual(['down', 'up']);
  });
});
