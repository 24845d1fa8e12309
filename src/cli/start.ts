import type { Command } from 'commander';
import { loadConfig } from '../config/index.ts';
import { type RunningHub, startHub } from '../hub.ts';

/** `iot-hub start`: runs the hub with the configured (or default local) services until SIGTERM/SIGINT. */
export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('run the hub: HTTP (/healthz, /readyz, /metrics) and every stage that is configured')
    .option('-p, --port <port>', 'HTTP port (default from config: 4000)')
    .option(
      '--ingest-group <id>',
      'consumer group of the telemetry ingest (default: connectors/telemetry.yaml)',
    )
    .action(async (options: { port?: string; ingestGroup?: string }) => {
      const config = loadConfig({ file: program.opts().config });
      if (options.port) config.http.port = Number(options.port);
      let hub: RunningHub;
      try {
        hub = await startHub(config, { ingestGroup: options.ingestGroup });
      } catch (err) {
        // Whatever had started was stopped again; say which stage failed and why, and exit non-zero.
        console.error((err as Error).message);
        process.exit(1);
      }
      const shutdown = async (signal: string) => {
        hub.logger.info({ signal }, 'shutting down; finishing the work in flight');
        await hub.stop();
        process.exit(0);
      };
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
      process.once('SIGINT', () => void shutdown('SIGINT'));
    });
}
