/**
 * Records held back until a simulated instant (late, out-of-order, re-sends), released in time order and,
 * for equal instants, in the order they were held. Small by construction: at most a few hours of faults.
 */
export class PendingQueue<T> {
  private readonly entries: Array<{ atMs: number; order: number; item: T }> = [];
  private order = 0;

  push(atMs: number, item: T): void {
    const entry = { atMs, order: this.order++, item };
    // Binary search for the first entry due later; equal instants keep insertion order.
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.atMs <= atMs) lo = mid + 1;
      else hi = mid;
    }
    this.entries.splice(lo, 0, entry);
  }

  /** Removes and yields [atMs, item] for every entry due at or before `untilMs`, earliest first. */
  *drain(untilMs: number): Generator<[number, T]> {
    while (this.entries.length > 0 && this.entries[0]!.atMs <= untilMs) {
      const entry = this.entries.shift()!;
      yield [entry.atMs, entry.item];
    }
  }

  get size(): number {
    return this.entries.length;
  }
}
