// The hub's ingest stage alone, in its own process, so the benchmark measures the hub's memory and CPU and
// nothing of the benchmark driver. Started by bench/ingest.ts with an IPC channel:
//   node bench/lib/hub-child.ts <database-url> <group-id> <topic>
// It sends {type:'ready'} once startIngest returns, {type:'rss'} every 500 ms, and on {type:'stop'} stops the
// ingest and answers {type:'done'} with process.resourceUsage() (maxRSS is the kernel's peak RSS, in KiB).
import { loadConfig } from '../../src/config/index.ts';
import { startIngest } from '../../src/ingest/index.ts';
import { createLogger } from '../../src/observability/index.ts';

export type ChildMessage =
  | { type: 'ready'; startupMs: number }
  | { type: 'rss'; rss: number; heapUsed: number }
  | {
      type: 'done';
      maxRssKb: number;
      sampledPeakRss: number;
      userCpuUs: number;
      systemCpuUs: number;
    }
  | { type: 'error'; message: string };

const [url, groupId, topic] = process.argv.slice(2);
if (!url || !groupId || !topic || !process.send) {
  console.error(
    'usage (from bench/ingest.ts only): node bench/lib/hub-child.ts <database-url> <group-id> <topic>',
  );
  process.exit(2);
}
const send = (m: ChildMessage) => process.send?.(m);

const started = performance.now();
let sampledPeakRss = process.memoryUsage.rss();
const sampler = setInterval(() => {
  const mem = process.memoryUsage();
  sampledPeakRss = Math.max(sampledPeakRss, mem.rss);
  send({ type: 'rss', rss: mem.rss, heapUsed: mem.heapUsed });
}, 500);

try {
  const config = loadConfig();
  config.database.url = url;
  const ingest = await startIngest(config, {
    logger: createLogger(process.env.BENCH_HUB_LOG_LEVEL ?? 'warn', 'iot-hub-bench'),
    groupId,
    topics: [topic],
  });
  send({ type: 'ready', startupMs: performance.now() - started });
  process.on('message', (m: { type?: string }) => {
    if (m?.type !== 'stop') return;
    void (async () => {
      await ingest.stop();
      clearInterval(sampler);
      const usage = process.resourceUsage();
      send({
        type: 'done',
        maxRssKb: usage.maxRSS,
        sampledPeakRss,
        userCpuUs: usage.userCPUTime,
        systemCpuUs: usage.systemCPUTime,
      });
      // exit (not just disconnect) so --cpu-prof writes its profile even if a client left a handle open
      process.disconnect();
      setTimeout(() => process.exit(0), 100);
    })();
  });
} catch (err) {
  send({ type: 'error', message: (err as Error).stack ?? String(err) });
  process.exitCode = 1;
  clearInterval(sampler);
  process.disconnect();
}
