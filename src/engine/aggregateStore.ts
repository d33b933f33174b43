// Spans past the run's budget, as the child counts them: per (site, parent) and flush. Kept in
// columns, and merged so that memory stays bounded whatever the run: a pair's aggregates that
// follow each other within `gapMs` are one, and when there are more than `capacity` of them the
// gap doubles and they merge again. A pair's activity keeps its extent; only its detail coarsens.

import { grown } from '../shared/columns';

/** How many aggregates are kept before they are merged coarser. */
export const DEFAULT_AGGREGATE_CAPACITY = 100_000;

export interface AggregateRow {
  site: number;
  /** 0: top level. */
  parentId: number;
  count: number;
  startMs: number;
  endMs: number;
}

export class AggregateStore {
  private site = new Int32Array(256);
  private parent = new Float64Array(256);
  private count = new Float64Array(256);
  private start = new Float64Array(256);
  private end = new Float64Array(256);
  private n = 0;
  /** (parent, site) -> index of the pair's latest aggregate. */
  private lastOf = new Map<number, number>();
  /** Aggregates of a pair closer than this merge. Doubles each time the store is full. */
  gapMs = 1;
  /** Spans counted in all aggregates. */
  total = 0;
  /** Bumped by every add(): a live view sends the aggregates again when it moved. */
  version = 0;

  constructor(private readonly capacity = DEFAULT_AGGREGATE_CAPACITY) {}

  get size(): number {
    return this.n;
  }

  /** Adds `count` spans of `site` under `parentId` in [startMs, endMs]; count 0 only extends the pair's last one. */
  add(site: number, parentId: number, count: number, startMs: number, endMs: number): void {
    this.total += count;
    this.version++;
    const key = parentId * 4294967296 + site;
    const last = this.lastOf.get(key);
    if (last !== undefined && (count === 0 || startMs - this.end[last] <= this.gapMs)) {
      this.count[last] += count;
      if (startMs < this.start[last]) this.start[last] = startMs;
      if (endMs > this.end[last]) this.end[last] = endMs;
      return;
    }
    if (count === 0) return; // the end of an aggregate that is not here: nothing to extend
    if (this.n === this.site.length) {
      if (this.n >= this.capacity) this.coarsen();
      if (this.n === this.site.length) this.grow();
    }
    const i = this.n++;
    this.site[i] = site;
    this.parent[i] = parentId;
    this.count[i] = count;
    this.start[i] = startMs;
    this.end[i] = endMs;
    this.lastOf.set(key, i);
  }

  /** Merges with a doubled gap until at most half the capacity is used (or pairs alone fill it). */
  private coarsen(): void {
    for (let round = 0; round < 64 && this.n > this.capacity / 2; round++) {
      const before = this.n;
      this.gapMs *= 2;
      const lastOf = new Map<number, number>();
      let w = 0;
      for (let r = 0; r < this.n; r++) {
        const key = this.parent[r] * 4294967296 + this.site[r];
        const last = lastOf.get(key);
        if (last !== undefined && this.start[r] - this.end[last] <= this.gapMs) {
          this.count[last] += this.count[r];
          if (this.start[r] < this.start[last]) this.start[last] = this.start[r];
          if (this.end[r] > this.end[last]) this.end[last] = this.end[r];
          continue;
        }
        this.site[w] = this.site[r];
        this.parent[w] = this.parent[r];
        this.count[w] = this.count[r];
        this.start[w] = this.start[r];
        this.end[w] = this.end[r];
        lastOf.set(key, w);
        w++;
      }
      this.n = w;
      this.lastOf = lastOf;
      // Every pair is down to one aggregate: nothing more to merge (the store grows instead).
      if (w === lastOf.size || (w === before && this.gapMs > 1e12)) break;
    }
  }

  private grow(): void {
    const n = this.site.length * 2;
    this.site = grown(this.site, n);
    this.parent = grown(this.parent, n);
    this.count = grown(this.count, n);
    this.start = grown(this.start, n);
    this.end = grown(this.end, n);
  }

  /** The aggregates in start order. */
  rows(): AggregateRow[] {
    const out: AggregateRow[] = [];
    for (let i = 0; i < this.n; i++) {
      out.push({ site: this.site[i], parentId: this.parent[i], count: this.count[i], startMs: this.start[i], endMs: Math.max(this.start[i], this.end[i]) });
    }
    return out.sort((a, b) => a.startMs - b.startMs || a.site - b.site || a.parentId - b.parentId);
  }
}
