// What the runtime keeps to answer "why is it still waiting?" when a run ends: promises the
// snippet creates are stamped with where they come from, and the report is built once, at exit or
// stop, from what the recorder already holds (its open awaits). Stamps are private class fields
// added to the promise: the program cannot see them (no property, no symbol, no Proxy trap), they
// change no ordering, and they cost about as much as a property store, nothing like a WeakMap.
import { inspect, types } from 'node:util';

import type { FloatingReport, WaitTarget } from '../shared/runtimeProtocol';
import {
  RegExpPrototypeExec, StringPrototypeIncludes, StringPrototypeReplace, StringPrototypeSlice, StringPrototypeSplit,
  WeakMapCtor, WeakMapPrototypeGet, WeakMapPrototypeSet,
} from './primordials';

/** A native promise (no getter, trap or Symbol.hasInstance of the program's runs). */
export const isPromise: (v: unknown) => boolean = types.isPromise;

/**
 * Returns the object it is given, so a subclass constructor adds its private fields to it: what
 * the runtime keeps on the program's objects, invisible to them (no property, no symbol).
 */
export class Stamp {
  constructor(target: object) {
    return target as any;
  }
}

/** A `new Promise(…)` of the snippet: the index of its site. */
class CreatedAt extends Stamp {
  #site: number;
  constructor(p: object, site: number) {
    super(p);
    this.#site = site;
  }
  static of(p: object): number {
    return #site in p ? p.#site : -1;
  }
}

/** The promise an instrumented async call returned: its frame (a Handle with an id when it is a span). */
class ReturnedBy extends Stamp {
  #frame: { id: number };
  constructor(p: object, frame: { id: number }) {
    super(p);
    this.#frame = frame;
  }
  static of(p: object): { id: number } | undefined {
    return #frame in p ? p.#frame : undefined;
  }
}

/** The result of an awaited `Promise.all/…` over an array: its members. */
class CombinesMembers extends Stamp {
  #members: unknown[];
  constructor(p: object, members: unknown[]) {
    super(p);
    this.#members = members;
  }
  static of(p: object): unknown[] | undefined {
    return #members in p ? p.#members : undefined;
  }
}

export function stampMembers(p: unknown, members: unknown[]): void {
  if (types.isPromise(p) && !CombinesMembers.of(p)) new CombinesMembers(p, members);
}

/** `events.once(emitter, name)`: what it waits for and where the snippet asked. */
export interface OnceInfo {
  emitter: object;
  event: string;
  line: number;
  column: number;
  atMs: number;
}
class WaitsForEvent extends Stamp {
  #once: OnceInfo;
  constructor(p: object, info: OnceInfo) {
    super(p);
    this.#once = info;
  }
  static of(p: object): OnceInfo | undefined {
    return #once in p ? p.#once : undefined;
  }
}

export function stampCreated(p: unknown, site: number): void {
  if (types.isPromise(p) && CreatedAt.of(p) < 0) new CreatedAt(p, site);
}

export function stampReturned(p: unknown, frame: { id: number }): void {
  if (types.isPromise(p) && !ReturnedBy.of(p)) new ReturnedBy(p, frame);
}

export function stampOnce(p: unknown, info: OnceInfo): void {
  if (types.isPromise(p) && !WaitsForEvent.of(p)) new WaitsForEvent(p, info);
}

/** Pending members of a combinator listed in a report. */
const MAX_MEMBERS = 50;

/** Events emitted while nobody listened: emitter -> event -> first time (ms). */
const missed: WeakMap<object, Record<string, number>> = new WeakMapCtor();

export function noteMissedEvent(emitter: object, event: string, atMs: number): void {
  let m = WeakMapPrototypeGet(missed, emitter) as Record<string, number> | undefined;
  if (!m) WeakMapPrototypeSet(missed, emitter, (m = { __proto__: null } as unknown as Record<string, number>));
  if (m[event] === undefined) m[event] = atMs;
}

/** What a pending value waits on, as far as the stamps tell. */
export function waitTarget(v: unknown, siteAt: (site: number) => { line: number; column: number } | undefined, depth = 0): WaitTarget {
  if (!types.isPromise(v)) return { kind: 'other', text: 'a thenable that is not a native promise' };
  const members = CombinesMembers.of(v);
  if (members && depth < 4) {
    const of: WaitTarget[] = [];
    for (let i = 0; i < members.length && of.length < MAX_MEMBERS; i++) {
      const m = members[i];
      if (types.isPromise(m) && promiseState(m as Promise<unknown>).state === 'pending') of[of.length] = waitTarget(m, siteAt, depth + 1);
    }
    return { kind: 'members', of };
  }
  const frame = ReturnedBy.of(v);
  if (frame && frame.id > 0) return { kind: 'call', id: frame.id };
  const site = CreatedAt.of(v);
  const at = site >= 0 ? siteAt(site) : undefined;
  if (at) return { kind: 'promise', line: at.line, column: at.column };
  const once = WaitsForEvent.of(v);
  if (once) {
    const when = (WeakMapPrototypeGet(missed, once.emitter) as Record<string, number> | undefined)?.[once.event];
    return {
      kind: 'event', event: once.event, line: once.line, column: once.column,
      ...(when !== undefined && when <= once.atMs ? { missedAtMs: Math.round(when * 1000) / 1000 } : {}),
    };
  }
  return { kind: 'other', text: 'a promise from outside the snippet' };
}

/** A promise's state without attaching a handler (a handler would mark a rejection handled). */
export function promiseState(p: Promise<unknown>): { state: FloatingReport['state']; reason?: string } {
  const text = inspect(p, { depth: 0, customInspect: false, breakLength: Infinity });
  if (StringPrototypeIncludes(text, '<pending>')) return { state: 'pending' };
  const rejected = RegExpPrototypeExec(/<rejected>\s*(.*)$/s, text);
  if (rejected) {
    const reason = StringPrototypeSlice(StringPrototypeSplit(StringPrototypeReplace(rejected[1], /\s*\}$/, ''), '\n')[0], 0, 200);
    return { state: 'rejected', reason };
  }
  return { state: 'fulfilled' };
}
