// Robust statistics and the bounded ring buffer the streaming detectors keep in their JSON state.

/** 1.4826 × MAD estimates σ for normal data (docs/data-quality.md, "Checks and QARTOD flags"). */
export const MAD_TO_SIGMA = 1.4826;

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Robust centre and sigma: median and 1.4826 × MAD. When more than half the values are equal the MAD is 0;
 * then sigma falls back to 1.2533 × the mean absolute deviation (equal to σ for normal data) so a mostly
 * quantised series still has a scale.
 */
export function robustScale(values: readonly number[]): { centre: number; sigma: number } {
  const centre = median(values);
  const deviations = values.map((v) => Math.abs(v - centre));
  let sigma = MAD_TO_SIGMA * median(deviations);
  if (sigma === 0 && deviations.length > 0) {
    sigma = (1.2533 * deviations.reduce((s, d) => s + d, 0)) / deviations.length;
  }
  return { centre, sigma };
}

/** A fixed-capacity FIFO as plain JSON (`items` oldest first), so it survives a restart in the state. */
export interface Ring {
  capacity: number;
  items: number[];
}

export function newRing(capacity: number): Ring {
  return { capacity: Math.max(1, Math.floor(capacity)), items: [] };
}

export function pushRing(ring: Ring, value: number): void {
  ring.items.push(value);
  // Capacity is small (hundreds), so shifting is cheaper than index bookkeeping and keeps the JSON readable.
  if (ring.items.length > ring.capacity) ring.items.splice(0, ring.items.length - ring.capacity);
}

/**
 * `robustScale` of a ring, kept cheap per reading: a sorted copy of the ring is maintained by binary insertion
 * and removal (O(log n) search, a short memmove), and the MAD is the k-th smallest deviation found by walking
 * outward from the median through the sorted values (O(n), no sort, no allocation). Results are identical to
 * `robustScale(ring.items)`. The sorted copy is derived, never persisted: the state stays the ring alone.
 */
export class RollingScale {
  readonly #ring: Ring;
  readonly #sorted: number[];

  constructor(ring: Ring) {
    this.#ring = ring;
    this.#sorted = [...ring.items].sort((a, b) => a - b);
  }

  get size(): number {
    return this.#ring.items.length;
  }

  /** Pushes onto the ring (evicting the oldest when full) and keeps the sorted copy in step. */
  push(value: number): void {
    const items = this.#ring.items;
    const evicted =
      items.length + 1 > this.#ring.capacity ? items.slice(0, items.length + 1 - this.#ring.capacity) : [];
    pushRing(this.#ring, value);
    for (const old of evicted) this.#sorted.splice(lowerBound(this.#sorted, old), 1);
    this.#sorted.splice(lowerBound(this.#sorted, value), 0, value);
  }

  /** Takes the newest `count` values off the ring (at most all of them). */
  dropNewest(count: number): void {
    const dropped = this.#ring.items.splice(Math.max(0, this.#ring.items.length - count));
    for (const old of dropped) this.#sorted.splice(lowerBound(this.#sorted, old), 1);
  }

  scale(): { centre: number; sigma: number } {
    const sorted = this.#sorted;
    const n = sorted.length;
    if (n === 0) return { centre: Number.NaN, sigma: Number.NaN };
    const mid = n >> 1;
    const centre = n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    // Deviations below the centre grow leftwards, above it rightwards: merge the two runs up to the median.
    let left = lowerBound(sorted, centre) - 1;
    let right = left + 1;
    let previous = 0;
    let current = 0;
    for (let taken = 0; taken <= mid; taken++) {
      const dl = left >= 0 ? Math.abs(sorted[left]! - centre) : Number.POSITIVE_INFINITY;
      const dr = right < n ? Math.abs(sorted[right]! - centre) : Number.POSITIVE_INFINITY;
      previous = current;
      if (dl <= dr) {
        current = dl;
        left--;
      } else {
        current = dr;
        right++;
      }
    }
    let sigma = MAD_TO_SIGMA * (n % 2 === 1 ? current : (previous + current) / 2);
    if (sigma === 0) {
      // Same fallback and the same summation order as robustScale (ring order), so the result is bit-identical.
      let sum = 0;
      for (const v of this.#ring.items) sum += Math.abs(v - centre);
      sigma = (1.2533 * sum) / n;
    }
    return { centre, sigma };
  }
}

/** The first index whose value is ≥ `value` in an ascending array. */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (sorted[m]! < value) lo = m + 1;
    else hi = m;
  }
  return lo;
}
