// Issue 14's table of goals, as the benches measure them. A bench calls `goal(...)` for each row it
// measures: a GOAL line on its stdout that bench/run.mjs takes out of the bench's own output and
// prints, after every bench ran, as one table saying of each row: met, or by how much it is not.

/**
 * One row. `measured` and `limit` are numbers in one unit (`unit`: 'x', 'ms', 's', 'MB', 'runs');
 * `atLeast` for a goal that is a floor (9 of 10 runs within the time), else the goal is a ceiling.
 * `shown`: the measured figure as the bench prints it, with its min–max and n.
 */
export function goal(row, { measured, limit, unit, shown, atLeast = false }) {
  process.stdout.write(`GOAL\t${JSON.stringify({ row, measured, limit, unit, shown, atLeast })}\n`);
}

/** The GOAL lines out of a bench's output: what it printed for people, and the rows. */
export function takeGoals(text) {
  const rows = [];
  const kept = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('GOAL\t')) {
      try { rows.push(JSON.parse(line.slice(5))); } catch { kept.push(line); }
    } else kept.push(line);
  }
  return { text: kept.join('\n'), rows };
}

const num = (n, unit) => (unit === 'x' ? `${n.toFixed(2)}x` : unit === 'runs' ? `${n}` : `${n >= 100 ? n.toFixed(0) : n.toFixed(1)} ${unit}`);

/** The verdict of one row: "met", or how far it is from its goal. */
export function verdict({ measured, limit, unit, atLeast }) {
  if (!Number.isFinite(measured)) return 'not measured';
  const met = atLeast ? measured >= limit : measured <= limit;
  if (met) return 'met';
  if (unit === 'runs') return `not met: ${measured} where the goal is ${limit}`;
  return `not met: ${num(measured, unit)} against ${atLeast ? '≥' : '≤'} ${num(limit, unit)} (${(measured / limit).toFixed(1)} times the goal)`;
}

/** The table, one line per row, in the order the rows were measured. */
export function goalTable(rows, wanted = []) {
  const lines = ["Issue 14's goals, as measured in this run:"];
  const width = Math.max(...rows.map((r) => r.row.length), ...wanted.map((w) => w.length), 10);
  for (const r of rows) lines.push(`  ${r.row.padEnd(width)}  ${r.shown}  ->  ${verdict(r)}`);
  for (const w of wanted) if (!rows.some((r) => r.row === w)) lines.push(`  ${w.padEnd(width)}  not measured in this run`);
  return lines.join('\n');
}
