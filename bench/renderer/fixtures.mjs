// Timelines for screenshots and benchmarks.

/** The two chefs, done right and then wrong: Promise.all, a busy-wait, a timer it delays, a retry, a loop. */
export function realisticTimeline() {
  let id = 0;
  const spans = [];
  const add = (parentId, kind, label, line, column, startMs, endMs, outcome = 'fulfilled') => {
    spans.push({ id: ++id, parentId, kind, label, line, column, startMs, endMs, outcome });
    return id;
  };
  const main = add(null, 'call', 'main()', 41, 1, 0.4, 1131);
  const all = add(main, 'combinator', 'Promise.all([fetchWeather(), fetchStock()])', 22, 27, 1.1, 305.2);
  const w = add(all, 'call', 'fetchWeather()', 22, 40, 1.2, 303.1);
  add(w, 'await', "fetch('/api/weather')", 8, 20, 1.3, 302.9);
  const s = add(all, 'call', 'fetchStock()', 22, 56, 1.4, 305.0);
  add(s, 'await', "fetch('/api/stock')", 14, 20, 1.5, 304.8);
  add(main, 'block', 'while (Date.now() < end) {}', 26, 3, 305.5, 506.2);
  add(main, 'timer', 'sleep(100)', 28, 9, 306.0, 507.1);
  const retry = add(main, 'await', 'fetchWithRetry(url)', 30, 9, 507.4, 690.3, 'rejected');
  add(retry, 'await', "fetch('/api/flaky')", 17, 22, 507.6, 590.2, 'rejected');
  add(retry, 'timer', 'sleep(50)', 18, 11, 590.5, 641.0);
  add(retry, 'await', "fetch('/api/flaky')", 17, 22, 641.2, 690.1, 'rejected');
  for (let i = 0; i < 5; i++) {
    const t = 700 + i * 85;
    add(main, 'await', 'save(item)', 33, 11, t, t + 78 + (i % 2) * 4);
  }
  add(main, 'block', 'JSON.stringify(report)', 36, 16, 1128.2, 1130.2);
  const marks = [
    { kind: 'log', text: 'weather: sunny, 21 °C', atMs: 303.2 },
    { kind: 'log', text: 'stock: ACME 42.17', atMs: 305.1 },
    { kind: 'warn', text: 'flaky API failed, retrying in 50 ms', atMs: 590.3 },
    { kind: 'error', text: 'Error: flaky API failed twice', atMs: 690.4 },
    { kind: 'log', text: 'saved 5 items', atMs: 1126 },
  ];
  const timeline = {
    version: 1,
    file: '/work/examples/two-chefs/breakfast.ts',
    language: 'typescript',
    status: 'completed',
    exitCode: 0,
    wallMs: 1131.5,
    error: null,
    spans,
    marks,
    droppedSpans: 0,
    stats: { wallMs: 1131.5, awaitedMs: 887.4, blockedMs: 202.7, maxConcurrency: 2 },
  };
  return timeline;
}

/**
 * A large run: `tasks` concurrent tasks, each a call with `perTask` sequential awaits (one row per
 * task, many spans per row), plus a few blocks. Deterministic.
 */
export function largeSpans(total, tasks = 500) {
  const perTask = Math.floor(total / tasks) - 1;
  const spans = [];
  let id = 0;
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let t = 0; t < tasks; t++) {
    const taskId = ++id;
    let at = rand() * 50;
    const start = at;
    const children = [];
    for (let k = 0; k < perTask; k++) {
      const d = 0.05 + rand() * 2;
      children.push({ id: ++id, parentId: taskId, kind: 'await', label: `fetchItem(${t % 20})`, line: 10 + (t % 20), column: 5, startMs: at, endMs: at + d, outcome: rand() < 0.02 ? 'rejected' : 'fulfilled' });
      at += d + rand() * 0.5;
    }
    spans.push({ id: taskId, parentId: null, kind: 'task', label: `worker(${t})`, line: 3, column: 1, startMs: start, endMs: at, outcome: 'fulfilled' }, ...children);
  }
  return spans;
}
