import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { MappingRouter } from '../mapping/index.ts';
import { counter, type Logger } from '../observability/index.ts';

const reloads = counter(
  'iot_hub_mappings_reloaded_total',
  'Reloads of the telemetry mappings after their files changed, by outcome (applied, rejected)',
  ['outcome'],
);

export interface MappingReloadOptions {
  /** How often the mappings folder is checked for changes. @defaultValue 2000 */
  intervalMs?: number;
  /** A change must stay unchanged this long before it is compiled, so a half-saved file is not. @defaultValue 300 */
  settleMs?: number;
}

/** The router the ingest uses, replaced whole when the mapping files change and still compile. */
export interface ReloadingRouter {
  /** The current router; a batch takes it once at its start and keeps it to its end. */
  current(): MappingRouter;
  /** Checks the folder now, reloading when it changed: 'unchanged', 'applied' or 'rejected'. */
  check(): Promise<'unchanged' | 'applied' | 'rejected'>;
  stop(): void;
}

/**
 * Watches a mappings folder with a cheap poll of the files' modification times and sizes (fs.watch misses
 * changes on some file systems and editors' save-by-rename), and swaps in a new router built by `build` (the same
 * checks as the ingest's start) once a change has settled. A change that does not compile or fails those checks
 * keeps the previous router and logs the problems with their file:line:col. Each reload is logged and counted
 * (iot_hub_mappings_reloaded_total{outcome}).
 */
export async function watchMappings(
  folder: string,
  initial: MappingRouter,
  build: () => MappingRouter,
  logger: Logger,
  options: MappingReloadOptions = {},
): Promise<ReloadingRouter> {
  let router = initial;
  let seen = await folderSignature(folder);
  let running: Promise<'unchanged' | 'applied' | 'rejected'> | null = null;
  const settleMs = options.settleMs ?? 300;

  const reload = async (): Promise<'unchanged' | 'applied' | 'rejected'> => {
    const changed = await folderSignature(folder);
    if (changed === seen) return 'unchanged';
    await new Promise((r) => setTimeout(r, settleMs));
    const settled = await folderSignature(folder);
    // Still being written: the next check looks again.
    if (settled !== changed) return 'unchanged';
    seen = settled;
    let next: MappingRouter;
    try {
      next = build();
    } catch (err) {
      reloads.inc({ outcome: 'rejected' });
      logger.error(
        { folder, problems: (err as Error).message },
        `mapping files in ${folder} changed but cannot be used; the ingest keeps the previous version until they are fixed:\n${(err as Error).message}`,
      );
      return 'rejected';
    }
    const before = describe(router);
    router = next;
    reloads.inc({ outcome: 'applied' });
    logger.info(
      { folder, before, mappings: describe(next) },
      'mapping files changed: the ingest uses the new version from its next batch',
    );
    return 'applied';
  };

  // One check at a time: a slow compile must not overlap the next poll.
  const check = () => {
    running ??= reload().finally(() => {
      running = null;
    });
    return running;
  };

  const timer = setInterval(() => {
    check().catch((err: unknown) => logger.warn({ err, folder }, 'checking the mapping files failed'));
  }, options.intervalMs ?? 2000);
  timer.unref();

  return {
    current: () => router,
    check,
    stop: () => clearInterval(timer),
  };
}

/** `id@version` of each mapping per topic, for the reload log line. */
function describe(router: MappingRouter): string[] {
  return router.topics().flatMap((t) => router.forTopic(t).map((m) => `${t}: ${m.id}@${m.version}`));
}

/** Every file under the folder with its size and modification time; any change to a file changes this. */
async function folderSignature(folder: string): Promise<string> {
  const parts: string[] = [];
  const visit = async (dir: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      parts.push(`${dir}\t${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
      return;
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) await visit(file);
      else {
        const s = await stat(file).catch(() => null);
        parts.push(`${file}\t${s?.size ?? -1}\t${s?.mtimeMs ?? -1}`);
      }
    }
  };
  await visit(folder);
  return parts.join('\n');
}
