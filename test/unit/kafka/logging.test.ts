import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { pinoLogCreator } from '../../../src/kafka/kafkajs.ts';
import {
  componentLogger,
  createCondition,
  createLogger,
  warnOnce,
} from '../../../src/observability/logger.ts';
import { captureLogger } from '../../support/capture-logger.ts';

/** A logger at debug level whose JSON lines are collected for inspection. */
const capture = () => captureLogger((sink) => createLogger('debug', 'iot-hub', sink));

describe('the hub log line shape', () => {
  it('has a level label, an ISO time, the service, the component of a child logger and msg', () => {
    const { logger, lines } = capture();
    componentLogger(logger, 'db', { pool: 'ingest' }).warn({ code: '57P01' }, 'connection lost');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'warn',
      service: 'iot-hub',
      component: 'db',
      pool: 'ingest',
      code: '57P01',
      msg: 'connection lost',
    });
    expect(String(lines[0]!.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
});

describe('createCondition', () => {
  it('begin warns once, repeats are counted silently, end logs one info with count and duration', () => {
    const { logger, lines } = capture();
    let now = 1000;
    const c = createCondition(logger, 'database unreachable', { now: () => now });
    expect(c.begin({ code: '57P01' }, 'database unreachable; batch of t/2 will be retried')).toBe(true);
    now = 1500;
    expect(c.begin({ code: '57P01' }, 'again')).toBe(false);
    expect(c.begin({ code: 'ECONNREFUSED' }, 'again')).toBe(false);
    expect(c).toMatchObject({ active: true, since: 1000, occurrences: 3 });
    now = 4000;
    expect(c.end({ attempts: 4 }, 'database reachable again')).toEqual({ occurrences: 3, durationMs: 3000 });
    expect(c.end()).toBeNull();
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'database unreachable; batch of t/2 will be retried'],
      ['info', 'database reachable again'],
    ]);
    expect(lines[0]).toMatchObject({ condition: 'database unreachable', code: '57P01' });
    expect(lines[1]).toMatchObject({ occurrences: 3, durationMs: 3000, attempts: 4 });
    expect(c).toMatchObject({ active: false, since: null, occurrences: 0 });
  });

  it('a condition that starts again after ending warns again', () => {
    const { logger, lines } = capture();
    const c = createCondition(logger, 'x');
    c.begin({}, 'down');
    c.end();
    c.begin({}, 'down');
    expect(lines.map((l) => l.msg)).toEqual(['down', 'x recovered', 'down']);
  });
});

describe('warnOnce', () => {
  it('logs a key once per logger', () => {
    const { logger, lines } = capture();
    expect(warnOnce(logger, 'k', { a: 1 }, 'first')).toBe(true);
    expect(warnOnce(logger, 'k', { a: 2 }, 'second')).toBe(false);
    expect(warnOnce(logger, 'other', {}, 'third')).toBe(true);
    expect(lines.map((l) => l.msg)).toEqual(['first', 'third']);
  });
});

describe('kafkajs lines through pino', () => {
  function entry(level: logLevel, message: string, extra: Record<string, unknown> = {}) {
    return {
      namespace: 'Consumer',
      level,
      label: logLevel[level],
      log: { timestamp: '2026-01-01T00:00:00.000Z', logger: 'kafkajs', message, ...extra },
    };
  }

  it('keep the hub shape and map the levels', () => {
    const { logger, lines, raw } = capture();
    const log = pinoLogCreator(componentLogger(logger, 'kafka', { clientId: 'hub' }))(logLevel.DEBUG);
    log(
      entry(logLevel.ERROR, 'Connection error', {
        broker: '127.0.0.1:19092',
        clientId: 'hub',
        stack: 'Error: at x',
        error: new Error('ECONNREFUSED'),
      }),
    );
    log(entry(logLevel.WARN, 'Response timeout', { groupId: 'g' }));
    log(entry(logLevel.INFO, 'Consumer has joined the group', { groupId: 'g' }));
    log(entry(logLevel.DEBUG, 'Fetching', { stack: 'not kept below error' }));
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['error', 'Connection error'],
      ['warn', 'Response timeout'],
      ['info', 'Consumer has joined the group'],
      ['debug', 'Fetching'],
    ]);
    expect(lines[0]).toMatchObject({
      component: 'kafka',
      kafkajs: 'Consumer',
      broker: '127.0.0.1:19092',
      stack: 'Error: at x',
    });
    expect(lines[0]!.err).toMatchObject({ type: 'Error', message: 'ECONNREFUSED' });
    // The client id comes from the child logger; kafkajs's copy would repeat the key in the JSON line.
    expect(raw[0]!.match(/"clientId"/g)).toHaveLength(1);
    expect(lines[0]).not.toHaveProperty('logger');
    expect(lines[0]).not.toHaveProperty('timestamp');
    expect(lines[3]).not.toHaveProperty('stack');
  });

  it('a consumer crash line is not an error (the CRASH event reports it with its outcome); a rebalance is info', () => {
    const { logger, lines } = capture();
    const log = pinoLogCreator(logger)(logLevel.DEBUG);
    log(entry(logLevel.ERROR, 'Crash: KafkaJSNonRetriableError: boom', { groupId: 'g' }));
    log(entry(logLevel.ERROR, 'Restarting the consumer in 300ms', { groupId: 'g' }));
    log(entry(logLevel.WARN, 'The group is rebalancing, re-joining', { groupId: 'g' }));
    expect(lines.map((l) => l.level)).toEqual(['debug', 'debug', 'info']);
  });
});

describe('componentLogger', () => {
  it('a component of a component replaces the key and keeps the other fields, once each', () => {
    const { logger, raw, lines } = capture();
    const ingest = componentLogger(logger, 'ingest', { groupId: 'g' });
    componentLogger(ingest, 'kafka', { clientId: 'hub' }).info('x');
    expect(lines[0]).toMatchObject({ component: 'kafka', groupId: 'g', clientId: 'hub' });
    for (const key of ['component', 'groupId', 'clientId'])
      expect(raw[0]!.match(new RegExp(`"${key}"`, 'g'))).toHaveLength(1);
  });
});
