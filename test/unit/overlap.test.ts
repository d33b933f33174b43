// "What could overlap": which awaits the static analysis groups, which it refuses, and the
// Promise.all rewrite it writes; then the same joined with a real run.
import assert from 'node:assert/strict';
import { parse } from '@babel/parser';

import { applyOverlapFix, findOverlapCandidates, type OverlapCandidate } from '../../src/engine/overlap';
import * as path from 'node:path';

import { cli, FIXTURES, runFixture } from './helpers';

/** The body of an async function, with a few helpers declared around it. */
function inAsync(body: string, params = ''): string {
  return `const sleep = (ms) => new Promise((r) => setTimeout(r, ms));\nasync function f(${params}) {\n${body}\n}\n`;
}

const find = (src: string, file = 'a.mjs') => findOverlapCandidates(src, file);

function only(src: string, file = 'a.mjs'): OverlapCandidate {
  const found = find(src, file);
  assert.equal(found.length, 1, `expected one candidate, got ${JSON.stringify(found, null, 1)}`);
  return found[0];
}

/** Applies the fix, checks the result still parses, and returns the function's new body lines. */
function fixed(src: string, c: OverlapCandidate, file = 'a.mjs'): string {
  assert.ok(c.fix, `no fix: ${c.noFix}`);
  const out = applyOverlapFix(src, c.fix);
  parse(out, { sourceType: 'module', plugins: /\.ts$/.test(file) ? ['typescript'] : [] });
  return out;
}

describe('overlap: awaits that could run together', () => {
  it('groups two independent consts and rewrites them to one Promise.all', () => {
    const src = inAsync(`  const a = await fetchA();\n  const b = await fetchB();\n  return a + b;`);
    const c = only(src);
    assert.equal(c.kind, 'sequential-awaits');
    assert.equal(c.line, 3);
    assert.equal(c.endLine, 4);
    assert.deepEqual(c.sites, [{ line: 3, column: 13 }, { line: 4, column: 13 }]);
    assert.equal(fixed(src, c), inAsync(`  const [a, b] = await Promise.all([fetchA(), fetchB()]);\n  return a + b;`));
  });

  it('groups three, keeps let, and keeps the user\'s own text for the calls', () => {
    const src = inAsync(`  let a = await cook('soup', 2);\n  let b = await cook( "pasta" , 3 );\n  let c = await sleep(10);\n  return [a, b, c];`);
    const c = only(src);
    assert.equal(c.sites.length, 3);
    assert.match(fixed(src, c), /^ {2}let \[a, b, c\] = await Promise\.all\(\[cook\('soup', 2\), cook\( "pasta" , 3 \), sleep\(10\)\]\);$/m);
  });

  it('an await whose result is unused ends a group: what follows may rely on what it did', () => {
    const src = inAsync(`  const a = await load();\n  await sleep(100);\n  return a;`);
    assert.match(fixed(src, only(src)), /^ {2}const \[a\] = await Promise\.all\(\[load\(\), sleep\(100\)\]\);$/m);
    const both = inAsync(`  const toast = await makeToast();\n  await heatPan();\n  const eggs = await fryEggs();\n  return [toast, eggs];`);
    assert.match(fixed(both, only(both)), /const \[toast\] = await Promise\.all\(\[makeToast\(\), heatPan\(\)\]\);\n {2}const eggs = await fryEggs\(\);/);
    assert.deepEqual(find(inAsync(`  await heatPan();\n  await fryEggs();`)), [], 'the eggs need the pan heated');
    const used = inAsync(`  const [x, y] = await Promise.all([a(), b()]);\n  await sleep(5);`);
    assert.match(fixed(used, only(used)), /const \[\[x, y\]\] = await Promise\.all\(\[Promise\.all\(\[a\(\), b\(\)\]\), sleep\(5\)\]\);/);
  });

  it('a Promise.all that drops a result ends a group like a bare await: the breakfast fix applied twice does not nest', () => {
    // What the first fix makes of examples/workshop/02-breakfast/starter.ts.
    const once = inAsync(`  const [toast] = await Promise.all([makeToast(), heatPan()]);\n  const eggs = await fryEggs();\n  return [toast, eggs];`);
    assert.deepEqual(find(once), [], 'the eggs need the pan heated: no second fix');
    for (const drops of ['const [, b] = await Promise.all([a(), b()]);', 'await Promise.all([a(), b()]);', 'const [x] = await Promise.allSettled([a(), b()]);']) {
      assert.deepEqual(find(inAsync(`  ${drops}\n  const z = await c();\n  return z;`)), [], drops);
    }
    // It may still end a group: it joins, and nothing after it does.
    const joins = inAsync(`  const w = await d();\n  const [x] = await Promise.all([a(), b()]);\n  const z = await c();\n  return [w, x, z];`);
    assert.equal(only(joins).sites.length, 2);
  });

  it('destructuring targets and assignments to declared variables', () => {
    const src = inAsync(`  const { user } = await getUser();\n  const [first] = await getList();\n  return [user, first];`);
    assert.match(fixed(src, only(src)), /const \[\{ user \}, \[first\]\] = await Promise\.all\(\[getUser\(\), getList\(\)\]\);/);
    const assign = inAsync(`  let a, b;\n  a = await one();\n  b = await two();\n  return a + b;`);
    assert.match(fixed(assign, only(assign)), /^ {2}\[a, b\] = await Promise\.all\(\[one\(\), two\(\)\]\);$/m);
  });

  it('a long group is written one call a line, indented like the code', () => {
    const src = inAsync(`    const first = await fetchSomethingRatherLong('https://example.com/a/long/path');\n    const second = await fetchSomethingRatherLong('https://example.com/another/long/path');`);
    const out = fixed(src, only(src));
    assert.ok(out.includes(`    const [first, second] = await Promise.all([\n      fetchSomethingRatherLong('https://example.com/a/long/path'),\n      fetchSomethingRatherLong('https://example.com/another/long/path'),\n    ]);`), out);
  });

  it('shares a const primitive and a primitive-typed parameter between the calls', () => {
    const src = `const base = 'https://x';\nasync function f(id: string) {\n  const u = await get(base, id);\n  const p = await posts(base, id);\n  return [u, p];\n}\n`;
    assert.equal(find(src, 'a.ts').length, 1);
  });

  it('a bare await can end a group of bare awaits only as its last: none here', () => {
    assert.deepEqual(find(inAsync(`  await sleep(100);\n  await sleep(200);`)), []);
  });

  it('the top level of a module counts as one function', () => {
    const src = `const a = await load('a');\nconst b = await load('b');\nconsole.log(a, b);\n`;
    assert.equal(only(src).line, 1);
  });

  it('a dependent statement closes the group and may start the next one', () => {
    const src = inAsync(`  const a = await one();\n  const b = await two();\n  const c = await three(a);\n  const d = await four();\n  return [b, c, d];`);
    const found = find(src);
    assert.deepEqual(found.map((c) => [c.line, c.endLine]), [[3, 4], [5, 6]]);
  });
});

describe('overlap: refused where the order matters', () => {
  const none = (src: string, file = 'a.mjs') => assert.deepEqual(find(src, file), [], src);

  it('the second uses the first\'s result: directly, via a closure, a shorthand property, or a member', () => {
    none(inAsync(`  const a = await one();\n  const b = await two(a);`));
    none(inAsync(`  const a = await one();\n  const b = await two(() => a.id);`));
    none(inAsync(`  const a = await one();\n  const b = await two({ a });`));
    none(inAsync(`  const a = await one();\n  const b = await a.next();`));
    none(inAsync(`  const { id } = await one();\n  const b = await two(id);`));
    none(inAsync(`  const a = await one();\n  const b = await two(\`\${a}\`);`));
  });

  it('a default value in the later pattern reads the earlier result', () => {
    none(inAsync(`  const a = await one();\n  const { b = a } = await two();`));
  });

  it('a statement between them', () => {
    none(inAsync(`  const a = await one();\n  console.log('between');\n  const b = await two();`));
  });

  it('calls that share an object or this may talk through it', () => {
    none(inAsync(`  const a = await addItem(cart);\n  const b = await checkout(cart);`, 'cart'));
    none(inAsync(`  const a = await db.insert(1);\n  const b = await db.query();`));
    none(`class A { async f() {\n  const a = await this.load();\n  const b = await this.save();\n} }\n`);
  });

  it('a value that something assigns or mutates elsewhere', () => {
    none(`let token;\nasync function login() { token = await auth(); }\nasync function f() {\n  const ok = await login();\n  const data = await fetchWith(token);\n}\n`);
    none(`const session = {};\nasync function f() {\n  const ok = await login();\n  const data = await fetchWith(session);\n}\nfunction g() { session.user = 1; }\n`);
  });

  it('awaits of something that is not a call, and awaits inside the argument', () => {
    none(inAsync(`  await null;\n  await p;`));
    none(inAsync(`  const a = await one(await x());\n  const b = await two();`));
  });

  it('the same variable assigned twice', () => {
    none(inAsync(`  let a;\n  a = await one();\n  a = await two();\n  return a;`));
  });

  it('member assignments and mixed declaration kinds', () => {
    none(inAsync(`  obj.a = await one();\n  obj.b = await two();`));
    const mixed = find(inAsync(`  const a = await one();\n  let b = await two();\n  return [a, b];`));
    assert.deepEqual(mixed, []);
  });

  it('awaits in different blocks', () => {
    none(inAsync(`  const a = await one();\n  if (x) {\n    const b = await two();\n  }`));
  });

  it('awaits in a function that is not async are not looked at; nor nested functions as one', () => {
    none(`function f() {\n  const g = async () => await one();\n  const h = async () => await two();\n}\n`);
  });

  it('inside a try block: reported, but no fix', () => {
    const src = inAsync(`  try {\n    const a = await one();\n    const b = await two();\n    return a + b;\n  } catch (e) {\n    console.log(e);\n  }`);
    const c = only(src);
    assert.equal(c.fix, undefined);
    assert.match(c.noFix ?? '', /try/);
  });

  it('a type annotation or a comment between the statements: reported, but no fix', () => {
    const typed = `async function f() {\n  const a: number = await one();\n  const b = await two();\n}\n`;
    assert.equal(only(typed, 'a.ts').fix, undefined);
    const commented = inAsync(`  const a = await one();\n  // then the other\n  const b = await two();`);
    assert.equal(only(commented).fix, undefined);
  });

  it('a file that does not parse has no candidates', () => {
    none('async function f( {');
  });
});

describe('overlap: loops over independent items', () => {
  it('a body that only awaits becomes Promise.all over map', () => {
    const src = `async function f() {\n  const dishes = ['soup', 'pasta'];\n  for (const d of dishes) {\n    await cook(d);\n  }\n}\n`;
    const c = only(src);
    assert.equal(c.kind, 'sequential-loop');
    assert.deepEqual(c.sites, [{ line: 4, column: 5 }]);
    assert.match(fixed(src, c), /^ {2}await Promise\.all\(dishes\.map\(\(d\) => cook\(d\)\)\);$/m);
  });

  it('an iterable that may not be an array goes through Array.from', () => {
    const src = inAsync(`  for (const u of urls) await fetch(u);`, 'urls');
    assert.match(fixed(src, only(src)), /await Promise\.all\(Array\.from\(urls, \(u\) => fetch\(u\)\)\);/);
  });

  it('push into a typed array declared just before: it keeps its type and becomes the result', () => {
    const src = `async function f(cities: string[]) {\n  const reports: string[] = [];\n  for (const city of cities) {\n    reports.push(await fetchWeather(city));\n  }\n  return reports;\n}\n`;
    assert.match(fixed(src, only(src, 'a.ts'), 'a.ts'), /^ {2}const reports: string\[\] = await Promise\.all\(cities\.map\(\(city\) => fetchWeather\(city\)\)\);$/m);
  });

  it('push into an array declared just before: the array becomes the result', () => {
    const src = inAsync(`  const results = [];\n  for (const x of [1, 2, 3]) {\n    results.push(await load(x));\n  }\n  return results;`);
    const c = only(src);
    assert.equal(c.line, 3);
    assert.match(fixed(src, c), /^ {2}const results = await Promise\.all\(\[1, 2, 3\]\.map\(\(x\) => load\(x\)\)\);\n {2}return results;/m);
  });

  it('a result pushed on the next line, into an array declared further up', () => {
    const src = inAsync(`  const out = [];\n  log('start');\n  for (const { id } of items) {\n    const r = await load(id);\n    out.push(r);\n  }`, 'items');
    assert.match(fixed(src, only(src)), /out\.push\(\.\.\.\(await Promise\.all\(Array\.from\(items, \(\{ id \}\) => load\(id\)\)\)\)\);/);
  });

  it('a counting loop over an index', () => {
    const src = inAsync(`  for (let i = 0; i < n; i++) {\n    await ping(i);\n  }`, 'n');
    assert.match(fixed(src, only(src)), /await Promise\.all\(Array\.from\(\{ length: n \}, \(_, i\) => ping\(i\)\)\);/);
  });

  it('refuses loop-carried state, control flow, for await, labels and bodies that do more', () => {
    const none = (body: string) => assert.deepEqual(find(inAsync(body, 'xs')), [], body);
    none(`  let total = 0;\n  for (const x of xs) total += await f(x);`);
    none(`  let prev;\n  for (const x of xs) {\n    prev = await f(x, prev);\n  }`);
    none(`  for (const x of xs) {\n    if (await f(x)) break;\n  }`);
    none(`  for (const x of xs) {\n    await f(x);\n    continue;\n  }`);
    none(`  for (const x of xs) {\n    await f(x);\n    return;\n  }`);
    none(`  for await (const x of xs) await f(x);`);
    none(`  outer: for (const x of xs) await f(x);`);
    none(`  for (const x of xs) {\n    console.log(x);\n    await f(x);\n  }`);
    none(`  for (const x of xs) await f(x, xs);`);
    none(`  for (var x of xs) await f(x);`);
    none(`  for (let i = 0; i < xs.length; i++) { await f(i); i++; }`);
    none(`  const results = [];\n  for (const x of xs) results.push(await f(results, x));`);
  });
});

describe('overlap: measured in a real run', () => {
  it('reports the two back-to-back awaits and the loop with about the saving Promise.all would bring', async () => {
    const { timeline: t, stdout } = await runFixture('node/could-overlap.mjs');
    assert.equal(t.status, 'completed');
    assert.equal(stdout, 'soup,pasta\n');
    const insights = t.insights ?? [];
    const pair = insights.find((i) => i.kind === 'sequential-awaits');
    const loop = insights.find((i) => i.kind === 'sequential-loop');
    assert.ok(pair && loop, JSON.stringify(insights));
    assert.equal(pair.line, 8);
    assert.equal(pair.endLine, 9);
    assert.equal(pair.spanIds.length, 2);
    // Two 200 ms waits: about 400 ms one after the other, about 200 ms together.
    assert.ok(pair.sequentialMs >= 380 && pair.sequentialMs < 1500, `sequential ${pair.sequentialMs}`);
    assert.ok(pair.sequentialMs > 1.6 * pair.parallelMs && pair.sequentialMs < 2.4 * pair.parallelMs, `${pair.sequentialMs} vs ${pair.parallelMs}`);
    assert.ok(Math.abs(pair.savesMs - (pair.sequentialMs - pair.parallelMs)) < 0.01);
    assert.match(pair.message, /these 2 awaits ran back to back \(\d+ ms\); together with Promise\.all they would take about \d+ ms \(saves \d+ ms\)/);
    assert.equal(pair.fix?.newText, "const [soup, pasta] = await Promise.all([cook('soup', 200), cook('pasta', 200)]);");
    for (const id of pair.spanIds) assert.equal(t.spans.find((s) => s.id === id)?.line !== undefined, true);
    assert.equal(loop.spanIds.length, 2);
    assert.ok(loop.sequentialMs > 1.6 * loop.parallelMs, `${loop.sequentialMs} vs ${loop.parallelMs}`);
    assert.match(loop.fix?.newText ?? '', /const plated = await Promise\.all\(\[soup, pasta\]\.map\(\(d\) => cook\(d, 100\)\)\);/);
  });

  it('awaits that already overlap give no insight', async () => {
    const { timeline: t } = await runFixture('node/chefs-promise-all.ts');
    assert.deepEqual(t.insights, []);
    assert.ok((t.criticalPath ?? []).length > 0);
  });

  it('the CLI prints them after the chart, with the fix, and marks the critical path', () => {
    const r = cli(['run', path.join(FIXTURES, 'node', 'could-overlap.mjs'), '--no-color']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /What could overlap \(2\):\n {2}lines 8–9: these 2 awaits ran back to back \([\d.]+ ms\); together with Promise\.all they would take about [\d.]+ ms \(saves [\d.]+ ms\)\n {4}fix: const \[soup, pasta\] = await Promise\.all/);
    assert.match(r.stdout, /lines 10–13: this await ran 2 times back to back in the loop/);
    assert.match(r.stdout, /^main\(\) +▶ *█+/m);
    assert.match(r.stdout, /▶ critical path: the spans that set the wall time/);
  });
});

describe('overlap: what the called functions do', () => {
  const none = (src: string) => assert.deepEqual(find(src), [], src);

  it('one called function changes module state the other reads, directly or through further calls', () => {
    none(`let token;\nasync function login() { token = await auth(); }\nasync function load() { return fetchWith(token); }\nasync function f() {\n  const ok = await login();\n  const data = await load();\n  return [ok, data];\n}\n`);
    none(`const items = [];\nconst add = async (x) => { items.push(x); };\nfunction count() { return items.length; }\nasync function report() { return count(); }\nasync function f() {\n  const added = await add(1);\n  const n = await report();\n  return [added, n];\n}\n`);
    // Each call of a function that counts: the loop's iterations share the counter.
    none(`let done = 0;\nasync function step(x) { await work(x); done++; }\nasync function f(xs) {\n  for (const x of xs) await step(x);\n}\n`);
    // A called function that looks at the array being filled.
    none(`const out = [];\nasync function next(x) { return x + out.length; }\nasync function f(xs) {\n  for (const x of xs) out.push(await next(x));\n}\n`);
  });

  it('functions that only use their own locals and parameters still group, recursion included', () => {
    const src = `async function fetchPage(n) { let tries = 0; tries++; return n > 0 ? fetchPage(n - 1) : tries; }\nasync function f() {\n  const a = await fetchPage(1);\n  const b = await fetchPage(2);\n  return a + b;\n}\n`;
    assert.equal(find(src).length, 1);
    const loop = `async function cook(dish) { const started = Date.now(); await sleep(10); return [dish, started]; }\nasync function f() {\n  for (const d of ['a', 'b']) await cook(d);\n}\n`;
    assert.equal(find(loop).length, 1);
  });
});
