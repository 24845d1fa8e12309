export { ReferenceCache, type ReferenceCacheStats, type ResolvedKeys } from './reference-cache.ts';
