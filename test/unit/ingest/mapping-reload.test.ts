import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { watchMappings } from '../../../src/ingest/mapping-reload.ts';
import { createMappingRouter, type MappingRouter } from '../../../src/mapping/index.ts';
import { captureLogger } from '../../support/capture-logger.ts';

describe('watchMappings', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const folder = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hub-watch-'));
    dirs.push(dir);
    writeFileSync(path.join(dir, 'a.yaml'), 'v: 1\n');
    return dir;
  };
  const router = (): MappingRouter => createMappingRouter([]);

  it('swaps the router after a change, and only after a change', async () => {
    const dir = folder();
    const initial = router();
    const next = router();
    const log = captureLogger();
    const watch = await watchMappings(dir, initial, () => next, log.logger, {
      intervalMs: 60_000,
      settleMs: 0,
    });
    try {
      expect(await watch.check()).toBe('unchanged');
      expect(watch.current()).toBe(initial);
      writeFileSync(path.join(dir, 'sub.yaml'), 'v: 2\n');
      expect(await watch.check()).toBe('applied');
      expect(watch.current()).toBe(next);
      expect(await watch.check()).toBe('unchanged');
    } finally {
      watch.stop();
    }
  });

  it('keeps the router in use when the changed files fail, logging the problems once', async () => {
    const dir = folder();
    const initial = router();
    const log = captureLogger();
    const watch = await watchMappings(
      dir,
      initial,
      () => {
        throw new Error('a.yaml:1:4: unknown key');
      },
      log.logger,
      { intervalMs: 60_000, settleMs: 0 },
    );
    try {
      writeFileSync(path.join(dir, 'a.yaml'), 'v: broken\n');
      expect(await watch.check()).toBe('rejected');
      expect(watch.current()).toBe(initial);
      expect(log.at(50).map((l) => l.msg)).toEqual([
        `mapping files in ${dir} changed but cannot be used; the ingest keeps the previous version until they are fixed:\na.yaml:1:4: unknown key`,
      ]);
      // The same broken files are not reported again at every poll.
      expect(await watch.check()).toBe('unchanged');
      expect(log.at(50)).toHaveLength(1);
    } finally {
      watch.stop();
    }
  });
});
