/**
 * A small least-recently-used cache for anything keyed by values that come from payloads: the key space
 * is whatever senders choose, so the cache must stay bounded. A Map keeps insertion order, so the first
 * key is the least recently used one; a hit on the most recent key skips the reordering.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();
  private lastKey: K | undefined;
  readonly capacity: number;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('LruCache capacity must be >= 1');
    this.capacity = capacity;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined && key !== this.lastKey) {
      this.entries.delete(key);
      this.entries.set(key, value);
      this.lastKey = key;
    }
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    this.lastKey = key;
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as K);
  }

  clear(): void {
    this.entries.clear();
    this.lastKey = undefined;
  }
}
