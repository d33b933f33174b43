// The published schema (schemas/timeline-v1.schema.json, `npm run schema` from src/shared/timeline.ts)
// accepts the timelines real runs write, in both languages and with every optional part, and rejects
// what is not a timeline. A field added to the contract without regenerating the schema fails here.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv from 'ajv';

import { cli, REPO } from './helpers';

const schema = JSON.parse(fs.readFileSync(path.join(REPO, 'schemas', 'timeline-v1.schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true }).compile(schema);
const problems = () => (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).join('; ');

describe('timeline JSON schema', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'at-schema-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function runToJson(file: string, ...more: string[]): unknown {
    const out = path.join(dir, `${path.basename(file)}.${more.length}.timeline.json`);
    const r = cli(['run', file, '--json', out, ...more]);
    assert.ok(fs.existsSync(out), `${file}: ${r.stderr}`);
    return JSON.parse(fs.readFileSync(out, 'utf8'));
  }

  it('accepts real timelines: TypeScript with insights and expectations, a baseline comparison, Python, a compile error', () => {
    const sequential = path.join('test', 'fixtures', 'node', 'could-overlap.mjs');
    const cases: Array<[string, unknown]> = [
      ['graded starter', runToJson(path.join('examples', 'workshop', '02-breakfast', 'starter.ts'), '--check')],
      ['insights', runToJson(sequential)],
      ['python', runToJson(path.join('examples', 'python', 'two_chefs_gather.py'))],
    ];
    const baseline = path.join(dir, 'baseline.json');
    fs.writeFileSync(baseline, JSON.stringify(cases[0]![1]));
    cases.push(['comparison', runToJson(path.join('examples', 'workshop', '02-breakfast', 'solution.ts'), '--check', '--baseline', baseline)]);
    const broken = path.join(dir, 'broken.ts');
    fs.writeFileSync(broken, 'const x = ;\n');
    cases.push(['compile error', runToJson(broken)]);
    // A module loaded by a computed name is instrumented by the runtime, as the run goes: a delay.
    fs.writeFileSync(path.join(dir, 'tiny.js'), 'module.exports = async () => 1;\n');
    const computed = path.join(dir, 'computed-require.js');
    fs.writeFileSync(computed, "const name = './' + 'tiny.js';\nrequire(name)().then(() => console.log('ok'));\n");
    cases.push(['delays', runToJson(computed)]);
    for (const [name, timeline] of cases) assert.equal(validate(timeline), true, `${name}: ${problems()}`);
    const t = cases.map(([, x]) => x as Record<string, unknown>);
    assert.ok(t[0]!.expectations && t[1]!.insights && t[3]!.comparison && t[4]!.error && t[5]!.delays, 'the optional parts were there to check');
  });

  it('rejects what is not a timeline', () => {
    assert.equal(validate({ version: 2, spans: [] }), false);
    assert.equal(validate({ traceEvents: [] }), false);
  });
});
