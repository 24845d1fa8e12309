import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { ensureError, MappingError, MappingErrorCode } from '../errors.ts';
import type { MappingDocument } from '../parse-mapping.ts';
import type { JsonSchema } from './schema-shape.ts';
import { SourceContract } from './source-contract.ts';

/**
 * The mapping's source contract (source.schema): a file next to the mapping, or a schema written inline.
 * Returns null when there is none. Throws MappingError(CONTRACT_INVALID) at source.schema when the file
 * leads outside the mapping's folder, cannot be read, or is not a valid JSON Schema. Called by compileMapping.
 */
export function loadContract(doc: MappingDocument): SourceContract | null {
  const { spec, locator } = doc;
  const schemaRef = spec.source.schema;
  if (schemaRef === undefined) return null;
  const at = locator.at(['source', 'schema']);
  let schema: JsonSchema;
  if (typeof schemaRef === 'string') {
    const folder = path.dirname(doc.file);
    const file = path.resolve(folder, schemaRef);
    try {
      // Contracts live beside their mappings: a path (or a link) leading out of the folder could make the
      // hub read any file it can, and the mapping would no longer travel with its contract.
      if (!isInside(path.resolve(folder), file) || !isInside(realpathSync(folder), realpathSync(file))) {
        throw new MappingError(
          MappingErrorCode.CONTRACT_INVALID,
          `source.schema ${schemaRef} leads outside the mapping's folder (${folder}); put the contract under ${path.join(folder, 'contracts')} and name it relatively, e.g. contracts/${path.basename(schemaRef)}`,
          { location: at, mappingId: spec.id },
        );
      }
      schema = JSON.parse(readFileSync(file, 'utf8')) as JsonSchema;
    } catch (e) {
      if (e instanceof MappingError) throw e;
      throw new MappingError(
        MappingErrorCode.CONTRACT_INVALID,
        `cannot load the source schema ${schemaRef}: ${ensureError(e).message}`,
        { location: at, mappingId: spec.id },
      );
    }
  } else {
    schema = schemaRef;
  }
  try {
    return new SourceContract(schema, spec.source.unknown_fields ?? 'warn');
  } catch (e) {
    throw new MappingError(
      MappingErrorCode.CONTRACT_INVALID,
      `the source schema is not a valid JSON Schema: ${ensureError(e).message}`,
      { location: at, mappingId: spec.id },
    );
  }
}

function isInside(folder: string, file: string): boolean {
  const relative = path.relative(folder, file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}
