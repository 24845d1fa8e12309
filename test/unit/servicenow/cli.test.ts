import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { emulatorOptionsFromFlags, registerServicenowCommand } from '../../../src/cli/servicenow.ts';

const defaults = {
  port: '18090',
  host: '127.0.0.1',
  user: 'admin',
  password: 'admin',
  clientId: 'hub',
  clientSecret: 'hub-secret',
};

describe('servicenow-emulator flags', () => {
  it('registers the command with its documented defaults', () => {
    const program = new Command();
    registerServicenowCommand(program);
    const command = program.commands.find((c) => c.name() === 'servicenow-emulator');
    expect(command).toBeDefined();
    command?.parseOptions([]);
    expect(command?.opts()).toMatchObject(defaults);
  });

  it('--no-resolution-policy turns the data policy off', () => {
    const program = new Command();
    registerServicenowCommand(program);
    const command = program.commands.find((c) => c.name() === 'servicenow-emulator');
    command?.parseOptions(['--no-resolution-policy']);
    expect(emulatorOptionsFromFlags(command?.opts() as typeof defaults).resolutionDataPolicy).toBe(false);
  });

  it('turns flags into emulator options', () => {
    expect(
      emulatorOptionsFromFlags({
        ...defaults,
        rateLimit: '50',
        faults: '5xx=0.1,latency=10',
        seed: '3',
        user: 'svc',
      }),
    ).toMatchObject({
      port: 18090,
      user: { username: 'svc', password: 'admin' },
      oauthClient: { clientId: 'hub', clientSecret: 'hub-secret' },
      rateLimit: { limit: 50, windowSeconds: 1 },
      faults: { serverError: { rate: 0.1 }, latency: { rate: 1, ms: 10 } },
      seed: 3,
      resolutionDataPolicy: true,
    });
  });

  it.each([
    [{ port: 'x' }, /--port/],
    [{ seed: '1.5' }, /--seed/],
    [{ rateLimit: 'lots' }, /invalid rate limit/],
    [{ faults: 'boom=1' }, /invalid fault/],
  ])('refuses %o', (flags, message) => {
    expect(() => emulatorOptionsFromFlags({ ...defaults, ...flags })).toThrow(message);
  });
});
