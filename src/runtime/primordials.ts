// The built-ins the runtime and the injected code use once the snippet runs, captured when the
// runtime loads (before any user code), the way Node's own internals use primordials: a program
// that deletes Array.prototype[Symbol.iterator], replaces Function.prototype.apply or swaps
// performance.now (fake timers) changes nothing in how the runtime works or in its clock.
// Code that runs while the snippet runs calls these, and uses no spread, for-of or
// destructuring over arrays (they go through the user-reachable Array iterator).

const FunctionPrototypeCallOf = Function.prototype.call;
const FunctionPrototypeBind = Function.prototype.bind;

/** `fn` as a function that takes its receiver first, immune to a replaced Function.prototype.call. */
export function uncurryThis(fn: Function): (self: unknown, ...args: any[]) => any {
  return Reflect.apply(FunctionPrototypeBind, FunctionPrototypeCallOf, [fn]);
}
const uncurry = <T extends (...args: any[]) => any>(fn: T) =>
  uncurryThis(fn) as unknown as (self: unknown, ...args: Parameters<T>) => ReturnType<T>;

/** `fn.call(self, ...args)` with no array of arguments made (Reflect.apply needs one per call). */
export const FunctionPrototypeCall = uncurryThis(FunctionPrototypeCallOf);
export const ReflectApply = Reflect.apply;
export const ReflectConstruct = Reflect.construct;
export const ReflectOwnKeys = Reflect.ownKeys;
export const ReflectGetPrototypeOf = Reflect.getPrototypeOf;
export const ReflectDefineProperty = Reflect.defineProperty;
export const ReflectGetOwnPropertyDescriptor = Reflect.getOwnPropertyDescriptor;
export const ObjectDefineProperty = Object.defineProperty;
export const ObjectGetPrototypeOf = Object.getPrototypeOf;
export const ObjectSetPrototypeOf = Object.setPrototypeOf;
export const ArrayIsArray = Array.isArray;
export const ArrayPrototypePush = uncurry(Array.prototype.push as (...items: unknown[]) => number);
export const ArrayPrototypeSlice = uncurry(Array.prototype.slice as (start?: number, end?: number) => unknown[]);
export const ArrayPrototypeJoin = uncurry(Array.prototype.join as (sep?: string) => string);
export const StringPrototypeSplit = uncurry(String.prototype.split as (sep: string) => string[]);
export const StringPrototypeSlice = uncurry(String.prototype.slice as (start?: number, end?: number) => string);
export const StringPrototypeIncludes = uncurry(String.prototype.includes as (s: string) => boolean);
export const StringPrototypeIndexOf = uncurry(String.prototype.indexOf as (s: string, from?: number) => number);
export const StringPrototypeLastIndexOf = uncurry(String.prototype.lastIndexOf as (s: string, from?: number) => number);
export const StringPrototypeStartsWith = uncurry(String.prototype.startsWith as (s: string) => boolean);
export const StringPrototypeReplace = uncurry(String.prototype.replace as (re: RegExp, to: string) => string);
export const RegExpPrototypeExec = uncurry(RegExp.prototype.exec as (s: string) => RegExpExecArray | null);
export const FunctionPrototypeToString = uncurry(Function.prototype.toString as () => string);
export const JSONStringify = JSON.stringify;
export const JSONParse = JSON.parse;
export const MathMax = Math.max;
export const MathMin = Math.min;
export const NumberIsFinite = Number.isFinite;
export const StringCtor = String;
export const PromiseCtor = Promise;
export const PromisePrototypeThen = uncurry(Promise.prototype.then as (a?: unknown, b?: unknown) => Promise<unknown>);
export const SymbolIterator: typeof Symbol.iterator = Symbol.iterator;
export const SymbolAsyncIterator: typeof Symbol.asyncIterator = Symbol.asyncIterator;
export const AtomicsWait = Atomics.wait;
export const AtomicsLoad = Atomics.load;
export const AtomicsStore = Atomics.store;
export const AtomicsCompareExchange = Atomics.compareExchange;
export const AtomicsNotify = Atomics.notify;
export const WeakMapCtor = WeakMap;
export const WeakMapPrototypeGet = uncurry(WeakMap.prototype.get as (k: object) => unknown);
export const WeakMapPrototypeSet = uncurry(WeakMap.prototype.set as (k: object, v: unknown) => WeakMap<object, unknown>);
export const WeakMapPrototypeHas = uncurry(WeakMap.prototype.has as (k: object) => boolean);
export const TypeErrorCtor = TypeError;
export const ErrorCtor = Error;
export const ErrorCaptureStackTrace = Error.captureStackTrace;
export const BufferFrom = Buffer.from.bind(Buffer) as typeof Buffer.from;
export const Uint8ArrayCtor = Uint8Array;
const TypedArrayPrototype = ObjectGetPrototypeOf(Uint8Array.prototype);
export const TypedArrayPrototypeSet = uncurry(TypedArrayPrototype.set as (source: ArrayLike<number>, offset?: number) => void);
const TypedArrayPrototypeGetBuffer = uncurry(ReflectGetOwnPropertyDescriptor(TypedArrayPrototype, 'buffer')!.get as () => ArrayBufferLike);
const TypedArrayPrototypeGetByteOffset = uncurry(ReflectGetOwnPropertyDescriptor(TypedArrayPrototype, 'byteOffset')!.get as () => number);
/**
 * Bytes begin..end of `a`, sharing its memory, as `a.subarray(begin, end)` but without the
 * constructor lookup (`subarray` builds its result through `a.constructor`, which a program can replace).
 */
export const Uint8ArrayView = (a: Uint8Array, begin: number, end: number): Uint8Array =>
  new Uint8ArrayCtor(TypedArrayPrototypeGetBuffer(a), TypedArrayPrototypeGetByteOffset(a) + begin, end - begin);
export const DataViewCtor = DataView;
export const DataViewPrototypeSetUint32 = uncurry(DataView.prototype.setUint32 as (offset: number, value: number, littleEndian?: boolean) => void);
const textEncoder = new TextEncoder();
const TextEncoderPrototypeEncode = TextEncoder.prototype.encode;
/** UTF-8 bytes of `text`, whatever the program did to TextEncoder. */
export const utf8 = (text: string): Uint8Array => ReflectApply(TextEncoderPrototypeEncode, textEncoder, [text]);

/** The runtime's own clock: what performance.now() returned before the snippet could replace it. */
export const performanceNow: () => number = performance.now.bind(performance);
/** performance.timeOrigin, read once (a getter the snippet could replace). */
export const timeOrigin: number = performance.timeOrigin;
