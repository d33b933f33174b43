// The spans of a run as the engine keeps them while it reads the child's stream: spans that come
// as binary records (opens and closes: nearly all of them) in columns of typed arrays, with no
// object per span until someone asks for one; spans that come as JSON messages (blocks, Python
// tasks) as objects. A million spans cost a few tens of MB and no garbage.
import { grown } from '../shared/columns';
import type { Site } from '../shared/runtimeProtocol';
import type { Outcome, Span } from '../shared/timeline';

const PENDING = 0;
const FULFILLED = 1;
const REJECTED = 2;
const OUTCOMES: Outcome[] = ['pending', 'fulfilled', 'rejected'];
/** Ids below this are found through a typed index; larger ones (rare) through a Map. */
const DENSE_IDS = 1 << 26;

export class SpanTable {
  private id = new Float64Array(1024);
  private parent = new Float64Array(1024);
  private site = new Int32Array(1024);
  private start = new Float64Array(1024);
  private end = new Float64Array(1024);
  private outcome = new Uint8Array(1024);
  /** The lag probe's tick count when the span closed (OP_CLOSE's turn; 0: not known). */
  private turn = new Float64Array(1024);
  /** Rows whose span was replaced by a JSON message with the same id. */
  private dead = new Uint8Array(1024);
  private rows = 0;
  /** id -> row + 1 (0: none), for ids < DENSE_IDS. */
  private rowById = new Int32Array(1024);
  private rowByBigId = new Map<number, number>();
  /** Spans that came whole (JSON messages), by id: these objects are the spans themselves. */
  readonly objects = new Map<number, Span>();
  /** Labels that replace a record span's site label (call previews), by id; may precede the open. */
  readonly labels = new Map<number, string>();
  /** Record spans whose promise nobody awaited (OP_FLOATING): few per run, so a set. */
  private readonly floating = new Set<number>();

  constructor(private readonly sites: Site[]) {}

  /** Spans in the table. */
  get size(): number {
    let n = this.objects.size;
    for (let r = 0; r < this.rows; r++) if (!this.dead[r]) n++;
    return n;
  }

  private rowOf(id: number): number {
    if (id < DENSE_IDS) return id < this.rowById.length ? this.rowById[id] - 1 : -1;
    const r = this.rowByBigId.get(id);
    return r === undefined ? -1 : r;
  }

  has(id: number): boolean {
    const r = this.rowOf(id);
    return (r >= 0 && !this.dead[r]) || this.objects.has(id);
  }

  /** A record span opens; the caller has validated it. */
  open(id: number, parentId: number, site: number, startMs: number): void {
    if (this.rows === this.id.length) this.grow();
    const r = this.rows++;
    this.id[r] = id;
    this.parent[r] = parentId;
    this.site[r] = site;
    this.start[r] = startMs;
    this.end[r] = startMs;
    this.outcome[r] = PENDING;
    if (id < DENSE_IDS) {
      if (id >= this.rowById.length) {
        let n = this.rowById.length * 2;
        while (n <= id) n *= 2;
        this.rowById = grown(this.rowById, n);
      }
      this.rowById[id] = r + 1;
    } else this.rowByBigId.set(id, r);
  }

  /** Closes span `id`; false when there is no such span. */
  close(id: number, outcome: 'fulfilled' | 'rejected', endMs: number, turn = 0): boolean {
    const r = this.rowOf(id);
    if (r >= 0 && !this.dead[r]) {
      this.end[r] = Math.max(this.start[r], endMs);
      this.outcome[r] = outcome === 'fulfilled' ? FULFILLED : REJECTED;
      this.turn[r] = turn;
      return true;
    }
    const o = this.objects.get(id);
    if (!o) return false;
    o.endMs = Math.max(o.startMs, endMs);
    o.outcome = outcome;
    return true;
  }

  /** The probe's tick count when span `id` closed (see OP_CLOSE); 0 when not known. */
  turnOf(id: number): number {
    const r = this.rowOf(id);
    return r >= 0 && !this.dead[r] ? this.turn[r] : 0;
  }

  /** A span as an object: the live one for a JSON span, a fresh view of a record span. */
  get(id: number): Span | undefined {
    const o = this.objects.get(id);
    if (o) return o;
    const r = this.rowOf(id);
    return r >= 0 && !this.dead[r] ? this.view(r) : undefined;
  }

  /** A whole span from a JSON message: it replaces any span with its id. */
  set(span: Span): void {
    const r = this.rowOf(span.id);
    if (r >= 0) this.dead[r] = 1;
    this.objects.set(span.id, span);
  }

  delete(id: number): void {
    if (this.objects.delete(id)) return;
    const r = this.rowOf(id);
    if (r >= 0) this.dead[r] = 1;
  }

  setLabel(id: number, label: string): void {
    const o = this.objects.get(id);
    if (o) o.label = label;
    else this.labels.set(id, label);
  }

  /** The call's promise was dropped: the span is drawn in the "Not awaited" lane. False when there is no such span. */
  setFloating(id: number): boolean {
    const o = this.objects.get(id);
    if (o) {
      o.floating = true;
      return true;
    }
    if (!this.has(id)) return false;
    this.floating.add(id);
    return true;
  }

  /** The largest id of a span still in the table; 0 when empty. */
  maxId(): number {
    let max = 0;
    for (let r = 0; r < this.rows; r++) if (!this.dead[r] && this.id[r] > max) max = this.id[r];
    for (const id of this.objects.keys()) if (id > max) max = id;
    return max;
  }

  private view(r: number): Span {
    const site = this.sites[this.site[r]];
    const id = this.id[r];
    const p = this.parent[r];
    const outcome = this.outcome[r];
    const span: Span = {
      id, parentId: p === 0 ? null : p, kind: site.kind, label: this.labels.get(id) ?? site.callLabel ?? site.label,
      line: site.line, column: site.column, startMs: this.start[r], endMs: outcome === PENDING ? null : this.end[r],
      outcome: OUTCOMES[outcome],
    };
    if (this.floating.size && this.floating.has(id)) span.floating = true;
    return span;
  }

  /** Every span: fresh objects for record spans, the live objects for JSON spans. */
  all(): Span[] {
    const out: Span[] = [];
    for (let r = 0; r < this.rows; r++) if (!this.dead[r]) out.push(this.view(r));
    for (const o of this.objects.values()) out.push(o);
    return out;
  }

  /** Spans of one kind (record spans as fresh objects). */
  ofKind(kind: Span['kind']): Span[] {
    const out: Span[] = [];
    for (let r = 0; r < this.rows; r++) if (!this.dead[r] && this.sites[this.site[r]].kind === kind) out.push(this.view(r));
    for (const o of this.objects.values()) if (o.kind === kind) out.push(o);
    return out;
  }

  private grow(): void {
    const n = this.id.length * 2;
    this.id = grown(this.id, n);
    this.parent = grown(this.parent, n);
    this.site = grown(this.site, n);
    this.start = grown(this.start, n);
    this.end = grown(this.end, n);
    this.outcome = grown(this.outcome, n);
    this.turn = grown(this.turn, n);
    this.dead = grown(this.dead, n);
  }
}
