import { Redis } from 'ioredis';
import { createKafka } from '../../kafka/index.ts';

/** Broker reachability through the hub's own Kafka client: metadata answered means ready. */
export async function kafkaStatus(
  brokers: string[],
): Promise<{ up: boolean; clusterId?: string; error?: string }> {
  const admin = createKafka({
    brokers,
    clientId: 'iot-hub-status',
    connectionTimeoutMs: 1000,
    retries: 0,
    logLevel: 'nothing',
  }).admin();
  try {
    await admin.connect();
    const { clusterId } = await admin.describeCluster();
    return { up: true, clusterId };
  } catch (err) {
    return { up: false, error: (err as Error).message };
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Connect's REST root answers with its version; the plugin list shows which connectors it can run. */
export async function connectStatus(
  url: string,
): Promise<{ up: boolean; version?: string; plugins?: string[]; error?: string }> {
  try {
    const root = await fetch(url, { signal: AbortSignal.timeout(2000) });
    if (!root.ok) return { up: false, error: `GET / answered ${root.status}` };
    const { version } = (await root.json()) as { version: string };
    const list = await fetch(`${url}/connector-plugins`, { signal: AbortSignal.timeout(5000) });
    const plugins = ((await list.json()) as { class: string }[]).map((p) => p.class);
    return { up: true, version, plugins };
  } catch (err) {
    return { up: false, error: (err as Error).cause ? String((err as Error).cause) : (err as Error).message };
  }
}

export async function redisStatus(url: string): Promise<{ up: boolean; version?: string; error?: string }> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const info = await redis.info('server');
    return { up: true, version: /redis_version:(\S+)/.exec(info)?.[1] };
  } catch (err) {
    return { up: false, error: (err as Error).message };
  } finally {
    redis.disconnect();
  }
}
