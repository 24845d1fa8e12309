import type { Command } from 'commander';
import { loadConfig } from '../config/index.ts';
import { type StackStatus, stackDown, stackStatus, stackUp } from '../devtools/stack/index.ts';

/** `iot-hub stack up|down|status`: the local Kafka, Connect + Debezium, PostgreSQL and Redis. */
export function registerStackCommand(program: Command): void {
  const stack = program
    .command('stack')
    .description('the local stack: Kafka (KRaft), Kafka Connect + Debezium, PostgreSQL, Redis');
  const log = (line: string) => console.log(line);

  stack
    .command('up')
    .description(
      'assemble (first run only) and start Kafka and Connect; prepare PostgreSQL for CDC; check Redis',
    )
    .action(async () => {
      const config = loadConfig({ file: program.opts().config });
      const result = await stackUp(config, log);
      if (result.alreadyUp)
        log(`stack already up; nothing to do (checked in ${result.seconds.toFixed(1)} s)`);
      else
        log(
          `stack up in ${result.seconds.toFixed(1)} s${result.started.length ? ` (started ${result.started.join(', ')})` : ''}`,
        );
      printStatus(result.status);
    });

  stack
    .command('down')
    .description('stop the Kafka and Connect processes this stack started; PostgreSQL and Redis keep running')
    .action(async () => {
      const stopped = await stackDown(log);
      log(
        stopped.length
          ? `stopped ${stopped.join(', ')}`
          : 'nothing to stop: no process started by this stack is running',
      );
    });

  stack
    .command('status')
    .description('show each component with its version, address and whether it is up')
    .option('--json', 'print JSON: {"components":{"kafka":{"up":true,...},...}}')
    .action(async (options: { json?: boolean }) => {
      const status = await stackStatus(loadConfig({ file: program.opts().config }));
      if (options.json) console.log(JSON.stringify(status, null, 2));
      else printStatus(status);
      if (!Object.values(status.components).every((c) => c.up)) process.exitCode = 3;
    });
}

function printStatus(status: StackStatus): void {
  for (const [name, c] of Object.entries(status.components)) {
    const detail = c.up ? `${c.version ?? ''}${c.pid ? ` pid ${c.pid}` : ''}` : (c.error ?? '');
    console.log(`${name.padEnd(9)}${(c.up ? 'up' : 'DOWN').padEnd(6)}${c.address.padEnd(24)}${detail}`);
  }
}
