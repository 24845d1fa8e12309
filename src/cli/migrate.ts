import { Argument, type Command } from 'commander';
import { loadConfig } from '../config/index.ts';
import { type MigrateAction, migrateActions, migrateDatabase } from '../warehouse/index.ts';

/** `iot-hub migrate [up|down|status]`: applies, rolls back or lists the dw and hub migrations. */
export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply (up, default), roll back all (down) or list (status) the database migrations')
    .addArgument(
      new Argument(
        '[action]',
        'up: apply pending; down: roll back every migration; status: list applied and pending',
      )
        .choices(migrateActions)
        .default('up'),
    )
    .action(async (action: MigrateAction) => {
      const config = loadConfig({ file: program.opts().config });
      await migrateDatabase(config.database.url, action, (line) => console.log(line));
    });
}
