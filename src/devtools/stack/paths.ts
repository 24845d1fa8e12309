import os from 'node:os';
import path from 'node:path';

/**
 * Where the stack lives: outside the repository, so a second `up` (or a fresh clone) reuses the jars.
 * IOT_HUB_STACK_DIR overrides it.
 */
export function stackPaths(
  root = process.env.IOT_HUB_STACK_DIR ?? path.join(os.homedir(), '.cache', 'iot-hub', 'stack'),
) {
  return {
    root,
    lib: path.join(root, 'lib'),
    plugins: path.join(root, 'plugins'),
    manifest: path.join(root, 'assembled.json'),
    conf: path.join(root, 'conf'),
    /** Broker log dirs and Connect offsets survive `down`/`up`, so hub offsets stored in PostgreSQL stay valid. */
    data: path.join(root, 'data'),
    logs: path.join(root, 'logs'),
    run: path.join(root, 'run'),
  };
}

export type StackPaths = ReturnType<typeof stackPaths>;
