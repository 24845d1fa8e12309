import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/index.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'hub-config-'));
function configFile(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('works with no file at all: defaults for the local stack', () => {
    const c = loadConfig({ file: undefined, env: { HUB_CONFIG: '' } });
    expect(c.kafka.brokers).toEqual(['127.0.0.1:19092']);
    expect(c.database.url).toBe('postgres://postgres@127.0.0.1:5432/iot_hub');
    expect(c.http.port).toBe(4000);
  });

  it('reads the repository iot-hub.yaml', () => {
    const c = loadConfig({ file: 'iot-hub.yaml', env: {} });
    expect(c.file).toBe(path.resolve('iot-hub.yaml'));
    expect(c.redis.url).toBe('redis://127.0.0.1:6379');
  });

  it('substitutes ${NAME} and ${NAME:-default}, keeping numbers numeric', () => {
    const file = configFile(
      'subst.yaml',
      'http:\n  port: ${HUB_PORT}\nkafka:\n  clientId: ${CLIENT:-hub-x}\n',
    );
    const c = loadConfig({ file, env: { HUB_PORT: '4100' } });
    expect(c.http.port).toBe(4100);
    expect(c.kafka.clientId).toBe('hub-x');
  });

  it('lets DATABASE_URL, KAFKA_BROKERS, REDIS_URL and SERVICENOW_URL override the file', () => {
    const file = configFile('env.yaml', 'kafka:\n  brokers: [a:1]\n');
    const c = loadConfig({
      file,
      env: {
        DATABASE_URL: 'postgres://u@db:5433/x',
        KAFKA_BROKERS: 'k1:9092, k2:9092',
        REDIS_URL: 'redis://r:6380',
        SERVICENOW_URL: 'https://acme.service-now.com',
      },
    });
    expect(c.database.url).toBe('postgres://u@db:5433/x');
    expect(c.kafka.brokers).toEqual(['k1:9092', 'k2:9092']);
    expect(c.redis.url).toBe('redis://r:6380');
    expect(c.servicenow.url).toBe('https://acme.service-now.com');
  });

  it('names the file, line, key and the allowed keys for an unknown key', () => {
    const file = configFile('unknown.yaml', 'kafka:\n  brokers: [a:1]\n  clientid: x\n');
    expect(errorOf(() => loadConfig({ file, env: {} })).message).toBe(
      `${file}:3:3: kafka.clientid: unknown key 'clientid'; allowed here: brokers, clientId, sessionTimeoutMs`,
    );
  });

  it('says what type is expected for a wrong type, and lists enum values', () => {
    const file = configFile('types.yaml', 'http:\n  port: "eighty"\nlog:\n  level: loud\n');
    const lines = errorOf(() => loadConfig({ file, env: {} })).message.split('\n');
    expect(lines).toContain(`${file}:2:9: http.port: must be integer`);
    expect(lines).toContain(
      `${file}:4:10: log.level: must be one of "trace", "debug", "info", "warn", "error", "fatal", "silent"`,
    );
  });

  it('names an unset environment variable with its position', () => {
    const file = configFile('missing-env.yaml', 'redis:\n  url: ${NOPE_REDIS}\n');
    expect(errorOf(() => loadConfig({ file, env: {} })).message).toBe(
      `${file}:2:8: environment variable NOPE_REDIS is not set; set it or write \${NOPE_REDIS:-default}.`,
    );
  });

  it('reports broken YAML with its position', () => {
    const file = configFile('broken.yaml', 'kafka:\n  brokers: [a:1\n');
    expect(errorOf(() => loadConfig({ file, env: {} })).message).toMatch(
      new RegExp(`^${file}:\\d+:\\d+: invalid YAML: `),
    );
  });

  it('fails clearly when HUB_CONFIG names a missing file', () => {
    expect(errorOf(() => loadConfig({ env: { HUB_CONFIG: path.join(dir, 'none.yaml') } })).message).toMatch(
      /none\.yaml: cannot read the config file/,
    );
  });
});
