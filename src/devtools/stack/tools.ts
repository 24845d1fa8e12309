import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { StackError } from './errors.ts';

/** Runs a command to completion, handing each output line to `onLine`; rejects with the tail of the output. */
export function runCommand(
  cmd: string,
  args: string[],
  options: { cwd?: string; onLine?: (line: string) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env ?? process.env });
    const tail: string[] = [];
    const take = (line: string) => {
      tail.push(line);
      if (tail.length > 30) tail.shift();
      options.onLine?.(line);
    };
    createInterface({ input: child.stdout }).on('line', take);
    createInterface({ input: child.stderr }).on('line', take);
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${tail.join('\n')}`)),
    );
  });
}

/** The java binary to use: $JAVA_HOME/bin/java, else java on PATH; must be Java 17 or newer. */
export function findJava(): { bin: string; version: number } {
  const bin = process.env.JAVA_HOME ? `${process.env.JAVA_HOME}/bin/java` : 'java';
  const out = spawnSync(bin, ['-version'], { encoding: 'utf8' });
  if (out.error) {
    throw new StackError(
      `Java was not found (${bin}). Kafka 4 needs Java 17 or newer: install it (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME.`,
    );
  }
  const match = /version "(\d+)(?:\.(\d+))?/.exec(out.stderr);
  const major = match ? Number(match[1] === '1' ? match[2] : match[1]) : 0;
  if (major < 17) {
    throw new StackError(
      `Kafka 4 needs Java 17 or newer, but ${bin} is Java ${major || 'of unknown version'}; set JAVA_HOME to a JDK 17+.`,
    );
  }
  return { bin, version: major };
}

/** Fails with instructions when Maven is missing; it is only needed to assemble the stack the first time. */
export function requireMaven(): string {
  const out = spawnSync('mvn', ['-v'], { encoding: 'utf8' });
  if (out.error || out.status !== 0) {
    throw new StackError(
      'Maven (mvn) was not found; the first `stack up` uses it to fetch Kafka and Debezium from Maven Central. Install it (Debian: apt-get install maven) and run again.',
    );
  }
  return 'mvn';
}
