import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { JwtPolicy } from './types.ts';

/**
 * Where the per-machine JWT secret lives when the policy's `secret_env` is not set: $XDG_CACHE_HOME/iot-hub
 * or ~/.cache/iot-hub (docs/graphql.md, "Tokens for trying the API"). Never in the repository.
 */
export function localSecretFile(): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  return path.join(cache, 'iot-hub', 'jwt-secret');
}

/**
 * The HS256 secret of the policy: the environment variable `secret_env` names, or else the local secret file,
 * created (random 256 bits, mode 0600) on first use, so `iot-hub token` and a hub on the same machine agree
 * with no setup.
 */
export function jwtSecret(jwt: JwtPolicy): Uint8Array {
  const fromEnv = jwt.secretEnv ? process.env[jwt.secretEnv] : undefined;
  if (fromEnv) return new TextEncoder().encode(fromEnv);
  const file = localSecretFile();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    // 'wx': of two processes starting at once, one creates the file and both then read the same secret.
    writeFileSync(file, randomBytes(32).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < 32)
    throw new Error(`${file} holds a JWT secret of ${secret.length} characters; delete it to get a new one`);
  return new TextEncoder().encode(secret);
}
