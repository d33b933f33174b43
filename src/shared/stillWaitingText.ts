// How a still-waiting chain reads, shared by the CLI and the panel: the links worth showing.
import type { StillWaiting, WaitLink } from './timeline';

const calleeOf = (text: string) => text.replace(/\(.*$/s, '').trim();

/**
 * The links worth a line: a call right under the await that started it (`await main()` then
 * `main()`), or the combinator an await wraps (`await Promise.all([…])` then `Promise.all([…])`),
 * says nothing new.
 */
export function shownLinks(w: StillWaiting): WaitLink[] {
  return w.chain.filter((l, i) => {
    const prev = w.chain[i - 1];
    if (i === 0 || prev?.kind !== 'await') return true;
    const awaited = prev.text.slice('await '.length);
    if (l.kind === 'combinator' && awaited === l.text) return false;
    if (l.kind === 'promise' && prev.line === l.line && awaited.startsWith('new Promise')) return false;
    return !(l.kind === 'call' && calleeOf(awaited) !== '' && calleeOf(awaited) === calleeOf(l.text));
  });
}
