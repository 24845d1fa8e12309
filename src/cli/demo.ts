import type { Command } from 'commander';
import { loadConfig } from '../config/index.ts';
import { stackUp } from '../devtools/stack/index.ts';
import { migrateDatabase } from '../warehouse/index.ts';

/** `iot-hub demo`: brings the local stack up, migrates and prints the status. Later stages extend it end to end. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('bring the local stack up, migrate the hub database and show what runs')
    .action(async () => {
      const config = loadConfig({ file: program.opts().config });
      const log = (line: string) => console.log(line);
      const up = await stackUp(config, log);
      log(up.alreadyUp ? 'stack already up' : `stack up in ${up.seconds.toFixed(1)} s`);
      await migrateDatabase(config.database.url, 'up', log);
      for (const [name, c] of Object.entries(up.status.components)) {
        log(`${name.padEnd(9)}${c.up ? 'up  ' : 'DOWN'}  ${c.address}  ${c.version ?? ''}`);
      }
      log('next: `npx iot-hub start` serves http://127.0.0.1:4000/healthz, /readyz and /metrics');
    });
}
