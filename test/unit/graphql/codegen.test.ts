import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config from '../../../codegen.ts';

// The generated resolver types are committed (docs/graphql.md, "Running"); this fails when schema/*.graphql
// changed without `npm run codegen`.

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const generatedFile = 'src/graphql/generated/types.ts';
const biome = `${repoRoot}node_modules/.bin/biome`;

describe('graphql codegen', () => {
  it('the committed src/graphql/generated/types.ts matches a fresh run over schema/*.graphql', async () => {
    const { hooks: _hooks, ...inMemory } = config;
    const outputs = await generate({ ...inMemory, cwd: repoRoot, silent: true }, false);
    const fresh = outputs.find((o: { filename: string }) => o.filename.endsWith(generatedFile)) as
      | { filename: string; content: string }
      | undefined;
    expect(fresh, 'codegen.ts generates the file').toBeDefined();
    // The same formatting the codegen hook applies when it writes the file.
    const formatted = execFileSync(biome, ['check', '--write', `--stdin-file-path=${generatedFile}`], {
      cwd: repoRoot,
      input: fresh!.content,
      encoding: 'utf8',
    });
    const committed = readFileSync(`${repoRoot}${generatedFile}`, 'utf8');
    expect(formatted === committed, `${generatedFile} is stale: run npm run codegen`).toBe(true);
  });
});
