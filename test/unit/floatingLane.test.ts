// Calls nobody awaited ("floating") are drawn in their own lane, apart from the awaited tree, in the
// panel's layout, the terminal chart and the SVG, with what became of them; observing them changes
// nothing a program can see (output, exit code, unhandled rejections as under plain node).
import * as assert from 'node:assert/strict';

import type { Span, Timeline } from '../../src/shared/timeline';
import { compactSpans } from '../../src/shared/chart/compact';
import { layoutSpans, NOT_AWAITED_KEY, TimelineLayout } from '../../src/shared/chart/layout';
import { decodeSpans, encodeAppend, isWireSpan, SiteInterner } from '../../src/shared/webviewProtocol';
import { packSpans, unpackSpans } from '../../src/shared/spanColumns';
import { renderGantt } from '../../src/engine/terminalGantt';
import { renderSvg } from '../../src/engine/exportSvg';
import { plainNode, runFixture } from './helpers';

const span = (id: number, parentId: number | null, label: string, startMs: number, endMs: number | null, extra: Partial<Span> = {}): Span =>
  ({ id, parentId, kind: 'call', label, line: id, column: 1, startMs, endMs, outcome: endMs === null ? 'pending' : 'fulfilled', ...extra });

describe('floating calls: a lane of their own', function () {
  this.timeout(60000);
  let ran: Awaited<ReturnType<typeof runFixture>>;
  before(async () => {
    ran = await runFixture('hangs/floating-lane.mjs');
  });

  it('marks the calls nobody awaited, and only those, and the program runs exactly as under plain node', () => {
    const plain = plainNode('hangs/floating-lane.mjs');
    const t = ran.timeline;
    assert.equal(ran.stdout, plain.stdout);
    assert.equal(ran.stderr, plain.stderr);
    assert.equal(t.exitCode, plain.status);
    // The program's own unhandledRejection handler still sees the rejection: observing did not handle it.
    assert.match(plain.stdout, /unhandled: metrics down/);
    assert.deepEqual(t.spans.filter((s) => s.floating).map((s) => s.label).sort(), ['flushLogs()', 'logVisit()', 'sendMetrics()']);
    // `main().catch(…)` is chained: not floating, neither the call nor the chain.
    assert.ok(!t.spans.some((s) => s.floating && s.label.startsWith('main')));
    assert.ok(!(t.floating ?? []).some((f) => f.label.startsWith('main')), JSON.stringify(t.floating));
  });

  it('says what became of each: rejected later with no handler, or the run ended before it finished', () => {
    const f = ran.timeline.floating ?? [];
    const by = (label: string) => f.find((x) => x.label === label);
    assert.equal(by('sendMetrics()')?.state, 'rejected');
    assert.match(by('sendMetrics()')!.message, /not awaited: sendMetrics\(\) rejected later \(Error: metrics down\) with no handler/);
    assert.equal(by('flushLogs()')?.state, 'pending');
    assert.match(by('flushLogs()')!.message, /not awaited: the run ended before flushLogs\(\) finished/);
    assert.equal(by('logVisit()'), undefined, 'a floating call that finished is drawn in the lane but is no problem');
  });

  it('the terminal chart draws the lane after the awaited tree, each sentence under its bar', () => {
    const lines = renderGantt(ran.timeline, { width: 100 }).split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const header = at(/^Not awaited ─+$/);
    assert.ok(header > 0, lines.join('\n'));
    assert.ok(at(/^main\(\)/) < header && at(/^ {2}await render\(\)/) < header, 'the awaited tree comes first');
    for (const call of ['logVisit', 'sendMetrics', 'flushLogs']) assert.ok(at(new RegExp(`^ {2}${call}\\(\\)`)) > header, `${call} in the lane`);
    assert.match(lines[at(/^ {2}sendMetrics\(\)/) + 1], /^ {4}↳ not awaited: sendMetrics\(\) rejected later \(Error: metrics down\) with no handler/);
    assert.match(lines[at(/^ {2}flushLogs\(\)/) + 1], /^ {4}↳ not awaited: the run ended before flushLogs\(\) finished/);
    assert.doesNotMatch(lines[at(/^ {2}logVisit\(\)/) + 1], /↳/);
  });

  it('the SVG draws the lane under a rule, with the sentences', () => {
    const svg = renderSvg(ran.timeline, { width: 1200 });
    assert.match(svg, />Not awaited<title>/);
    assert.match(svg, /not awaited: the run ended before flushLogs\(\) finished/);
    assert.match(svg, /not awaited: sendMetrics\(\) rejected later/);
    // The lane's rows come after the awaited ones.
    assert.ok(svg.indexOf('>Not awaited<') > svg.indexOf('await render()'));
    assert.ok(svg.indexOf('>Not awaited<') < svg.indexOf('>flushLogs()<'));
  });
});

describe('floating calls: the shared chart model', () => {
  it('the layout puts them, and what ran under them, in the "Not awaited" lane, always the last top-level row', () => {
    const spans = [
      span(1, null, 'main()', 0, 100),
      span(2, 1, 'log()', 5, 20, { floating: true }),
      span(3, 2, 'write()', 6, 19, { kind: 'await' }),
      span(4, 1, 'await render()', 10, 90, { kind: 'await' }),
      span(5, null, 'later()', 95, 99),
    ];
    const rows = layoutSpans(spans).flatten();
    assert.deepEqual(rows.map((r) => `${'  '.repeat(r.depth)}${r.label}`), ['main()', '  await render()', 'later()', 'Not awaited', '  log()', '    write()']);
    const lane = rows[3];
    assert.equal(lane.lane, 'not-awaited');
    assert.equal(lane.key, NOT_AWAITED_KEY);
    assert.equal(lane.spans.length, 0);
    // Collapsing the lane hides its calls.
    assert.deepEqual(layoutSpans(spans).flatten({ collapsed: new Set([NOT_AWAITED_KEY]) }).map((r) => r.label), ['main()', 'await render()', 'later()', 'Not awaited']);
  });

  it('a top-level `main();` is the program\'s entry point: it stays where it is, its insight on its bar', () => {
    const spans = [span(1, null, 'main()', 0, null, { floating: true }), span(2, 1, 'await job()', 1, null, { kind: 'await' })];
    assert.deepEqual(layoutSpans(spans).flatten().map((r) => `${'  '.repeat(r.depth)}${r.label}`), ['main()', '  await job()']);
    const t: Timeline = {
      version: 1, file: '/x/a.mjs', language: 'javascript', status: 'completed', exitCode: 0, wallMs: 10, error: null, spans, marks: [],
      droppedSpans: 0, stats: { wallMs: 10, awaitedMs: 0, blockedMs: 0, maxConcurrency: 1 },
      floating: [{ line: 1, column: 1, label: 'main()', spanId: 1, state: 'pending', message: 'not awaited: the run ended before main() finished' }],
    };
    const lines = renderGantt(t).split('\n');
    assert.ok(!lines.some((l) => /^Not awaited/.test(l)));
    assert.match(lines[lines.findIndex((l) => l.startsWith('main()')) + 1], /↳ not awaited: the run ended before main\(\) finished/);
  });

  it('a call marked floating after it was placed (a later batch) moves to the lane with its children', () => {
    const layout = new TimelineLayout();
    layout.apply([span(1, null, 'main()', 0, null), span(2, 1, 'log()', 5, null), span(3, 2, 'write()', 6, null, { kind: 'await' })]);
    assert.deepEqual(layout.flatten().map((r) => `${r.depth}:${r.label}`), ['0:main()', '1:log()', '2:write()']);
    layout.apply([span(2, 1, 'log()', 5, null, { floating: true })]);
    assert.deepEqual(layout.flatten().map((r) => `${r.depth}:${r.label}`), ['0:main()', '0:Not awaited', '1:log()', '2:write()']);
    layout.apply([span(4, 1, 'await render()', 10, null, { kind: 'await' })]);
    assert.deepEqual(layout.flatten().map((r) => `${r.depth}:${r.label}`), ['0:main()', '1:await render()', '0:Not awaited', '1:log()', '2:write()']);
  });

  it('compaction never folds a floating call into the code that started it', () => {
    // main()'s only child is a call nobody awaited that takes most of it: rule 3 would merge them.
    const spans = [span(1, null, 'main()', 0, 100), span(2, 1, 'save()', 1, 99, { floating: true })];
    const c = compactSpans(spans, 100);
    assert.deepEqual(c.spans.map((s) => `${s.label}${s.floating ? ' (floating)' : ''}`), ['main()', 'save() (floating)']);
    // A floating call keeps the mark when its own only child folds into it.
    const folded = compactSpans([span(1, null, 'save()', 0, 50, { floating: true }), span(2, 1, 'write()', 1, 49, { kind: 'await' })], 50);
    assert.equal(folded.spans.length, 1);
    assert.equal(folded.spans[0].floating, true);
  });

  it('the mark survives the webview protocol and the HTML report\'s packed columns', () => {
    const spans = [span(1, null, 'main()', 0, 10), span(2, 1, 'log()', 1, null, { floating: true }), span(3, 1, 'bad()', 2, 5, { floating: true, outcome: 'rejected' })];
    const msg = encodeAppend(new SiteInterner(), spans, [], 0);
    assert.ok(msg.spans.every(isWireSpan));
    assert.equal(isWireSpan([1, 0, 0, 0, 1, 1, 2]), false);
    const back = decodeSpans(msg.sites, msg.spans).spans;
    assert.deepEqual(back.map((s) => s.floating ?? false), [false, true, true]);
    const unpacked = unpackSpans(packSpans(spans).sites, packSpans(spans).bytes);
    assert.deepEqual(unpacked.map((s) => [s.floating ?? false, s.outcome]), [[false, 'fulfilled'], [true, 'pending'], [true, 'rejected']]);
  });

  it('a timeline without floating calls has no lane anywhere', () => {
    const t: Timeline = {
      version: 1, file: '/x/a.mjs', language: 'javascript', status: 'completed', exitCode: 0, wallMs: 10, error: null,
      spans: [span(1, null, 'main()', 0, 10)], marks: [], droppedSpans: 0, stats: { wallMs: 10, awaitedMs: 0, blockedMs: 0, maxConcurrency: 1 },
    };
    assert.doesNotMatch(renderGantt(t), /Not awaited/);
    assert.doesNotMatch(renderSvg(t), /Not awaited/);
    assert.ok(!layoutSpans(t.spans).flatten().some((r) => r.lane));
  });
});
