import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { compileMapping } from './compile-mapping.ts';
import { ensureError, MappingError, MappingErrorCode, MappingInvalidError } from './errors.ts';
import { parseMappingText } from './parse-mapping.ts';
import type { CompiledMapping } from './types.ts';

/** Parses and compiles mapping YAML. Throws MappingInvalidError listing every problem with file:line:col. */
export function compileMappingText(text: string, file: string): CompiledMapping {
  return compileMapping(parseMappingText(text, file));
}

/** Reads and compiles one mapping file. Throws MappingInvalidError (FILE_UNREADABLE, YAML_SYNTAX, ...). */
export function loadMappingFile(file: string): CompiledMapping {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MappingInvalidError([
      new MappingError(
        MappingErrorCode.FILE_UNREADABLE,
        `${file}: cannot read the mapping file (${ensureError(e).message})`,
      ),
    ]);
  }
  return compileMappingText(text, file);
}

/** Mapping files (*.yaml, *.yml) under the given files and folders, sorted; folders are searched recursively. */
export function findMappingFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  const visit = (p: string) => {
    let isDirectory = false;
    try {
      isDirectory = statSync(p).isDirectory();
    } catch {
      files.push(p); // reported as FILE_UNREADABLE by the loader
      return;
    }
    if (!isDirectory) {
      files.push(p);
      return;
    }
    for (const entry of readdirSync(p).sort()) {
      const child = path.join(p, entry);
      if (statSync(child).isDirectory() || /\.ya?ml$/.test(entry)) visit(child);
    }
  };
  for (const p of paths) visit(p);
  return [...new Set(files)];
}

export interface LoadedMappings {
  mappings: CompiledMapping[];
  /** Every problem in every file; a file with problems contributes no mapping. */
  errors: MappingError[];
  files: string[];
}

/**
 * Loads every mapping under `paths` (default: the mappings/ folder), collecting problems instead of
 * stopping at the first file. Two files with the same id and version are a DUPLICATE_MAPPING error,
 * because rows and dead letters identify their mapping by that pair. Callers decide whether errors are fatal.
 */
export function loadMappings(paths: readonly string[] = ['mappings']): LoadedMappings {
  const files = findMappingFiles(paths);
  const mappings: CompiledMapping[] = [];
  const errors: MappingError[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    let mapping: CompiledMapping;
    try {
      mapping = loadMappingFile(file);
    } catch (e) {
      if (e instanceof MappingInvalidError) {
        errors.push(...e.errors);
        continue;
      }
      throw e;
    }
    const key = `${mapping.id}@${mapping.version}`;
    const other = seen.get(key);
    if (other) {
      errors.push(
        new MappingError(
          MappingErrorCode.DUPLICATE_MAPPING,
          `${file}: mapping ${mapping.id} version ${mapping.version} is also defined in ${other}; bump the version or change the id`,
          { mappingId: mapping.id, mappingVersion: mapping.version },
        ),
      );
      continue;
    }
    seen.set(key, file);
    mappings.push(mapping);
  }
  return { mappings, errors, files };
}
