import type { MappingMeta } from './expression/scope.ts';
import type { CompiledMapping } from './types.ts';

/** Picks the mapping for a record: by topic first, then by each mapping's source.match predicate. */
export interface MappingRouter {
  /** Mappings that read `topic` (including those that name no topic), in load order. */
  forTopic(topic: string): readonly CompiledMapping[];
  /** The first mapping on the record's topic whose predicate accepts it, or null (the caller dead-letters it). */
  route(record: unknown, meta: MappingMeta & { topic: string }): CompiledMapping | null;
  /** Topics that at least one mapping names. */
  topics(): string[];
}

/** Builds a router over loaded mappings; the ingest stage calls route() per record. Empty input routes nothing. */
export function createMappingRouter(mappings: readonly CompiledMapping[]): MappingRouter {
  const byTopic = new Map<string, CompiledMapping[]>();
  const anyTopic = mappings.filter((m) => m.source.topic === undefined);
  for (const m of mappings) {
    if (m.source.topic === undefined) continue;
    const list = byTopic.get(m.source.topic) ?? [];
    list.push(m);
    byTopic.set(m.source.topic, list);
  }
  // Mappings without a topic apply everywhere, after the topic's own ones.
  for (const list of byTopic.values()) list.push(...anyTopic);
  const forTopic = (topic: string) => byTopic.get(topic) ?? anyTopic;
  return {
    forTopic,
    route(record, meta) {
      for (const m of forTopic(meta.topic)) if (m.matches(record, meta)) return m;
      return null;
    },
    topics: () => [...byTopic.keys()],
  };
}
