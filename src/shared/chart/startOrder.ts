// Spans in start order (ties by id), as the layout takes them: a merge of the runs already in
// order (a run's spans come mostly sorted, task by task), comparing keys copied into typed arrays
// instead of calling a comparator on a million objects scattered in memory. The same order as a
// stable sort by `a.startMs - b.startMs || a.id - b.id`.

/** A new array of `items` by start, then id; equal keys keep their order. */
export function byStart<T extends { startMs: number; id: number }>(items: readonly T[]): T[] {
  const n = items.length;
  const start = new Float64Array(n);
  const id = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    start[i] = items[i].startMs;
    id[i] = items[i].id;
  }
  const order = startOrder(start, id);
  const out: T[] = new Array(n);
  for (let k = 0; k < n; k++) out[k] = items[order[k]];
  return out;
}

/**
 * The indexes of keys `start[i]`, `id[i]` in the order `byStart` puts their items: by start, then
 * id; equal keys keep their order.
 */
export function startOrder(start: Float64Array, id: Float64Array): Uint32Array {
  const n = start.length;
  /** Whether item a goes strictly before item b. */
  const before = (a: number, b: number) => start[a] < start[b] || (start[a] === start[b] && id[a] < id[b]);
  // Boundaries of the runs already in order.
  let bounds: number[] = [0];
  for (let i = 1; i < n; i++) if (before(i, i - 1)) bounds.push(i);
  bounds.push(n);
  let src = new Uint32Array(n);
  for (let i = 0; i < n; i++) src[i] = i;
  let dst = new Uint32Array(n);
  // Merge neighbouring runs until one is left.
  while (bounds.length > 2) {
    const next: number[] = [0];
    for (let r = 0; r + 1 < bounds.length; r += 2) {
      const lo = bounds[r];
      const mid = bounds[r + 1];
      const hi = r + 2 < bounds.length ? bounds[r + 2] : mid;
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) dst[k++] = before(src[j], src[i]) ? src[j++] : src[i++];
      while (i < mid) dst[k++] = src[i++];
      while (j < hi) dst[k++] = src[j++];
      next.push(hi);
    }
    [src, dst] = [dst, src];
    bounds = next;
  }
  return src;
}
