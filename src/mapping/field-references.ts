import { MappingError, MappingErrorCode } from './errors.ts';
import type { MappingSpec } from './mapping-spec.ts';
import { didYouMean, listOf } from './suggest.ts';
import type { LookupDeclaration } from './types.ts';
import type { YamlLocator, YamlPath } from './yaml-locator.ts';

/**
 * Lookups, target keys, SCD columns and flags name fields of the mapped row; a typo there would only
 * surface in another stage, so check every reference here (UNKNOWN_FIELD_REF) and build the lookup
 * declarations the enrichment stage receives.
 */
export function checkFieldReferences(
  spec: MappingSpec,
  locator: YamlLocator,
  fieldNames: string[],
): { lookups: LookupDeclaration[]; errors: MappingError[] } {
  const known = new Set(fieldNames);
  const errors: MappingError[] = [];
  const check = (name: string | undefined, at: YamlPath, what: string) => {
    if (name === undefined || known.has(name)) return;
    errors.push(
      new MappingError(
        MappingErrorCode.UNKNOWN_FIELD_REF,
        `${what} names field '${name}', which the mapping does not produce${didYouMean(name, known)}; fields: ${listOf(known)}`,
        { location: locator.at(at), mappingId: spec.id },
      ),
    );
  };

  const lookups: LookupDeclaration[] = [];
  for (const [name, lookup] of Object.entries(spec.lookups ?? {})) {
    for (const [column, field] of Object.entries(lookup.natural_key)) {
      check(field, ['lookups', name, 'natural_key', column], `lookup '${name}' natural_key.${column}`);
    }
    check(lookup.as_of, ['lookups', name, 'as_of'], `lookup '${name}' as_of`);
    lookups.push({
      name,
      dimension: lookup.dimension,
      naturalKey: { ...lookup.natural_key },
      asOf: lookup.as_of ?? null,
      onMissing: lookup.on_missing ?? 'infer',
      location: locator.at(['lookups', name]),
    });
  }

  const target = spec.target;
  const keys = target.natural_key === undefined ? [] : [target.natural_key].flat();
  keys.forEach((k, i) => {
    check(
      k,
      typeof target.natural_key === 'string' ? ['target', 'natural_key'] : ['target', 'natural_key', i],
      'target.natural_key',
    );
  });
  check(target.dedupe_key, ['target', 'dedupe_key'], 'target.dedupe_key');
  check(target.scd?.effective_from, ['target', 'scd', 'effective_from'], 'target.scd.effective_from');
  for (const list of ['tracked', 'type1'] as const) {
    target.scd?.[list]?.forEach((f, i) => {
      check(f, ['target', 'scd', list, i], `target.scd.${list}`);
    });
  }
  check(target.hierarchy?.parent, ['target', 'hierarchy', 'parent'], 'target.hierarchy.parent');
  check(target.hierarchy?.level, ['target', 'hierarchy', 'level'], 'target.hierarchy.level');

  for (const [name, value] of Object.entries(spec.fields)) {
    if (value === null || typeof value !== 'object' || !value.flag) continue;
    for (const flagged of Object.keys(value.flag))
      check(flagged, ['fields', name, 'flag', flagged], `field '${name}' flag`);
  }
  return { lookups, errors };
}
