import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StackError } from './errors.ts';
import type { StackPaths } from './paths.ts';
import { connectPluginsPom, kafkaRuntimePom } from './poms.ts';
import { requireMaven, runCommand } from './tools.ts';
import { stackVersions } from './versions.ts';

export interface AssembleResult {
  /** False when the cache already held this exact set of versions. */
  assembled: boolean;
  seconds: number;
}

/**
 * Fetches the broker, the Connect runtime and the Debezium plugins from Maven Central into the stack folder,
 * once: a manifest records the versions, and a second call with the same versions does nothing.
 */
export async function assembleStack(paths: StackPaths, log: (line: string) => void): Promise<AssembleResult> {
  const started = Date.now();
  if (isAssembled(paths)) return { assembled: false, seconds: 0 };
  const mvn = requireMaven();
  mkdirSync(paths.root, { recursive: true });
  rmSync(paths.lib, { recursive: true, force: true });
  rmSync(paths.plugins, { recursive: true, force: true });
  writeFileSync(path.join(paths.root, 'kafka-pom.xml'), kafkaRuntimePom);
  writeFileSync(path.join(paths.root, 'plugins-pom.xml'), connectPluginsPom(paths.plugins));

  log(
    `assembling Kafka ${stackVersions.kafka} and Debezium ${stackVersions.debezium} from Maven Central (first run only)`,
  );
  const progress = downloadProgress(log);
  await runCommand(
    mvn,
    [
      '-B',
      '-f',
      'kafka-pom.xml',
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${paths.lib}`,
    ],
    { cwd: paths.root, onLine: progress },
  );
  log(`  broker and Connect runtime: ${readdirSync(paths.lib).length} jars`);
  await runCommand(mvn, ['-B', '-f', 'plugins-pom.xml', 'generate-resources'], {
    cwd: paths.root,
    onLine: progress,
  });
  log(`  Connect plugins: ${readdirSync(paths.plugins).join(', ')}`);
  checkAssembly(paths);
  writeFileSync(
    paths.manifest,
    `${JSON.stringify({ ...stackVersions, assembledAt: new Date().toISOString() }, null, 2)}\n`,
  );
  return { assembled: true, seconds: (Date.now() - started) / 1000 };
}

export function isAssembled(paths: StackPaths): boolean {
  if (!existsSync(paths.manifest)) return false;
  const m = JSON.parse(readFileSync(paths.manifest, 'utf8')) as Record<string, string>;
  return m.kafka === stackVersions.kafka && m.debezium === stackVersions.debezium && existsSync(paths.lib);
}

/** Reports Maven's downloads as a running count instead of thousands of lines. */
function downloadProgress(log: (line: string) => void): (line: string) => void {
  let files = 0;
  let lastReport = Date.now();
  return (line) => {
    if (line.includes('[ERROR]')) log(`  ${line}`);
    if (!line.includes('Downloaded from')) return;
    files += 1;
    if (Date.now() - lastReport > 3000) {
      lastReport = Date.now();
      log(`  … ${files} files downloaded`);
    }
  };
}

function checkAssembly(paths: StackPaths): void {
  const jars = readdirSync(paths.lib);
  const needed = [
    /^kafka_2\.13-/,
    /^kafka-server-\d/,
    /^connect-runtime-/,
    /^connect-json-/,
    /^log4j-slf4j2-impl-/,
  ];
  for (const pattern of needed) {
    if (!jars.some((j) => pattern.test(j)))
      throw new StackError(
        `assembly is missing a jar matching ${pattern}; delete ${paths.root} and run again.`,
      );
  }
  const clash = jars.filter((j) => /log4j-slf4j-impl|reload4j|slf4j-log4j12/.test(j));
  if (clash.length > 0)
    throw new StackError(
      `assembly has a second logging binding (${clash.join(', ')}); delete ${paths.root} and run again.`,
    );
  for (const plugin of ['debezium-connector-postgres', 'debezium-connector-jdbc']) {
    if (!existsSync(path.join(paths.plugins, plugin)))
      throw new StackError(`Connect plugin ${plugin} is missing after assembly.`);
  }
}
