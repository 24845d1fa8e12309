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
