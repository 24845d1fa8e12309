import type { Command } from 'commander';
import {
  faultSpecHelp,
  parseFaultSpec,
  parseRateLimitSpec,
  type ServiceNowEmulatorOptions,
  startServiceNowEmulator,
} from '../devtools/servicenow/index.ts';

interface EmulatorFlags {
  port: string;
  host: string;
  rateLimit?: string;
  faults?: string;
  seed?: string;
  user: string;
  password: string;
  clientId: string;
  clientSecret: string;
  /** False with --no-resolution-policy; commander leaves it unset otherwise. */
  resolutionPolicy?: boolean;
}

/** Turns the command's flags into emulator options; throws a sentence naming the bad flag. */
export function emulatorOptionsFromFlags(flags: EmulatorFlags): ServiceNowEmulatorOptions {
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be 0–65535, got "${flags.port}"`);
  const seed = flags.seed === undefined ? undefined : Number(flags.seed);
  if (seed !== undefined && !Number.isInteger(seed))
    throw new Error(`--seed must be a whole number, got "${flags.seed}"`);
  return {
    port,
    host: flags.host,
    user: { username: flags.user, password: flags.password },
    oauthClient: { clientId: flags.clientId, clientSecret: flags.clientSecret },
    rateLimit: flags.rateLimit === undefined ? undefined : parseRateLimitSpec(flags.rateLimit),
    faults: flags.faults === undefined ? undefined : parseFaultSpec(flags.faults),
    seed,
    resolutionDataPolicy: flags.resolutionPolicy !== false,
  };
}

/** `iot-hub servicenow-emulator`: runs the local ServiceNow stand-in until SIGINT or SIGTERM. */
export function registerServicenowCommand(program: Command): void {
  program
    .command('servicenow-emulator')
    .description(
      'run a local ServiceNow instance stand-in (Table API, OAuth, rate limits, Event Management, IRE)',
    )
    .option('--port <port>', 'TCP port (0 = any free port)', '18090')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--rate-limit <rate>', 'per-user limit on /api/ requests: N or N/s, N/m, N/h (e.g. 50)')
    .option('--faults <spec>', `faults to inject, ${faultSpecHelp}`)
    .option('--seed <n>', 'seed of the fault generator, for reproducible runs')
    .option('--user <name>', 'Basic-auth user (also the OAuth password-grant user)', 'admin')
    .option('--password <password>', "the user's password", 'admin')
    .option('--client-id <id>', 'OAuth client id for /oauth_token.do', 'hub')
    .option('--client-secret <secret>', 'OAuth client secret', 'hub-secret')
    .option('--no-resolution-policy', 'accept Resolved/Closed incidents without close_code and close_notes')
    .action(async (flags: EmulatorFlags) => {
      const emulator = await startServiceNowEmulator(emulatorOptionsFromFlags(flags));
      const { username, password, clientId, clientSecret } = emulator.credentials;
      console.log(`ServiceNow emulator listening on ${emulator.url}`);
      console.log(`  Basic auth: ${username} / ${password}`);
      console.log(`  OAuth:      POST ${emulator.url}/oauth_token.do  client ${clientId} / ${clientSecret}`);
      if (flags.rateLimit) console.log(`  Rate limit: ${flags.rateLimit} per user`);
      if (flags.faults) console.log(`  Faults:     ${flags.faults}`);
      console.log('Stop with Ctrl-C.');
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await emulator.close();
      console.log(`ServiceNow emulator stopped (${signal}).`);
    });
}
