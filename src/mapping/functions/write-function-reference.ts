// Writes docs/mapping-functions.md from the function specs: `npm run docs:functions`.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FUNCTION_REFERENCE_PATH, renderFunctionReference } from './function-reference.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
writeFileSync(`${root}${FUNCTION_REFERENCE_PATH}`, renderFunctionReference());
process.stdout.write(`wrote ${FUNCTION_REFERENCE_PATH}\n`);
