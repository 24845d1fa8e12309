import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

const benchDir = fileURLToPath(new URL('../../bench/', import.meta.url));

/** `iot-hub bench <name>` runs bench/<name>.ts, which writes bench/results/<name>.json. */
export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('run a benchmark from bench/ and write bench/results/<name>.json')
    .argument('<name>', 'benchmark name (a file bench/<name>.ts)')
    .allowUnknownOption()
    .argument('[args...]', 'arguments passed to the benchmark')
    .action(async (name: string, args: string[]) => {
      const file = path.join(benchDir, `${name}.ts`);
      if (!existsSync(file)) {
        const known = readdirSync(benchDir)
          .filter((f) => f.endsWith('.ts'))
          .map((f) => f.slice(0, -3));
        throw new Error(`no benchmark '${name}'; known: ${known.join(', ') || '(none yet)'}`);
      }
      const child = spawn(process.execPath, [file, ...args], { stdio: 'inherit' });
      const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
      process.exitCode = code;
    });
}
