// Columns of numbers (typed arrays) that grow by doubling: the runtime's recorder and the engine's
// stores keep spans, counts and aggregates this way. Safe in the runtime after a program replaced
// typed arrays' methods, constructors or globals: what this uses is captured when the module loads,
// before any snippet code runs (node's own internals do the same with primordials).

export type Column = Int8Array | Uint8Array | Int32Array | Uint32Array | Float64Array;

const ReflectApply = Reflect.apply;
const ObjectGetPrototypeOf = Object.getPrototypeOf;
const TypedArrayPrototypeSet = ObjectGetPrototypeOf(Uint8Array.prototype).set as (source: ArrayLike<number>) => void;
// A typed array constructor's `prototype` is neither writable nor configurable: these stay true.
const KINDS: ReadonlyArray<new (length: number) => Column> = [Float64Array, Int32Array, Uint32Array, Uint8Array, Int8Array];

/** A new column of `a`'s kind with room for `length` values (at least a.length), `a`'s first. */
export function grown<T extends Column>(a: T, length: number): T {
  const proto = ObjectGetPrototypeOf(a);
  for (let k = 0; k < KINDS.length; k++) {
    const Kind = KINDS[k];
    if (Kind.prototype !== proto) continue;
    const b = new Kind(length < a.length ? a.length : length) as T;
    ReflectApply(TypedArrayPrototypeSet, b, [a]);
    return b;
  }
  throw new TypeError('grown(): not a column');
}
