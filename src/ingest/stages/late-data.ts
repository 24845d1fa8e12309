import type { CompiledMapping, MappingRouter } from '../../mapping/index.ts';

// One view per mapping, so the enrich stage's per-mapping caches (factLookups) hit across batches.
const views = new WeakMap<CompiledMapping, CompiledMapping>();

/**
 * The mapping with `late_data.max_lateness` lifted, for a backfill: the enrich stage's late-data check then lets
 * a reading of any age through. `future_skew` still applies, because a reading from the future is a device clock
 * to fix, not late data. The view shares everything else (id, version, compiled closures) with the mapping.
 */
export function withoutMaxLateness(mapping: CompiledMapping): CompiledMapping {
  if (mapping.lateData.maxLatenessMs === null) return mapping;
  let view = views.get(mapping);
  if (!view) {
    // A prototype view rather than a copy: the mapping is a class instance whose methods need its own fields.
    view = Object.create(mapping, {
      lateData: { value: { ...mapping.lateData, maxLatenessMs: null }, enumerable: true },
    }) as CompiledMapping;
    views.set(mapping, view);
  }
  return view;
}

/** A router that hands out the mappings of `router` with max_lateness lifted (withoutMaxLateness). */
export function lateTolerantRouter(router: MappingRouter): MappingRouter {
  return {
    forTopic: (topic) => router.forTopic(topic).map(withoutMaxLateness),
    route(record, meta) {
      const mapping = router.route(record, meta);
      return mapping && withoutMaxLateness(mapping);
    },
    topics: () => router.topics(),
  };
}
