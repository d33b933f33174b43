// Localisation: every string package.json shows comes from package.nls.json (and every entry there
// is used), and the extension's own code (src/extension.ts, src/host) passes what it shows the user
// through vscode.l10n.t — a hard-coded message, title, tooltip, label or button fails here.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { REPO } from './helpers';

/** Places in one line of host code where a user-facing string is written out instead of localised. */
export function hardCodedStrings(line: string): string[] {
  const found: string[] = [];
  const code = line.replace(/^\s*\/\/.*$/, '').replace(/\s\/\/ .*$/, '');
  // A literal's own words: what ${…} interpolates is code, $(…) is an icon, and the product's name stays as it is.
  const words = (literal: string) => /[A-Za-z]{2,}/.test(literal.replace(/\$\{[^}]*\}|\$\([\w-]+\)/g, '').replace(/^Await Timeline$/, ''));
  const literal = String.raw`(['"\x60])((?:\\.|(?!\1).)*)\1`;
  const sinks = [
    new RegExp(String.raw`\b(?:show(?:Information|Warning|Error)Message|setStatusBarMessage|TestMessage)\(\s*${literal}`, 'g'),
    new RegExp(String.raw`\b(?:title|tooltip|placeholder|description|detail|saveLabel|openLabel|label|text)\s*[:=]\s*${literal}`, 'g'),
    new RegExp(String.raw`\bconst\s+\w+\s*=\s*(['"])([A-Z][a-z]+(?: [A-Za-z]+)+)\1`, 'g'),
    new RegExp(String.raw`\breturn\s+${literal}`, 'g'),
  ];
  for (const sink of sinks) {
    for (const m of code.matchAll(sink)) {
      const text = m[2] ?? '';
      if (words(text) && !/^[\w.$/-]*$/.test(text.replace(/\$\{[^}]*\}/g, ''))) found.push(m[0]);
    }
  }
  return found;
}

function sources(): string[] {
  const host = path.join(REPO, 'src', 'host');
  return [path.join(REPO, 'src', 'extension.ts'), ...fs.readdirSync(host).filter((f) => f.endsWith('.ts')).map((f) => path.join(host, f))];
}

describe('localisation', () => {
  it('package.json takes every string it shows from package.nls.json, and uses every entry', () => {
    const manifest = fs.readFileSync(path.join(REPO, 'package.json'), 'utf8');
    const nls = JSON.parse(fs.readFileSync(path.join(REPO, 'package.nls.json'), 'utf8')) as Record<string, string>;
    const used = new Set([...manifest.matchAll(/"%([^%"]+)%"/g)].map((m) => m[1]!));
    for (const key of used) assert.equal(typeof nls[key], 'string', `package.nls.json has ${key}`);
    for (const key of Object.keys(nls)) assert.ok(used.has(key), `package.nls.json's ${key} is used`);
    const p = JSON.parse(manifest);
    const shown = [p.displayName, p.description, ...p.contributes.commands.flatMap((c: any) => [c.title, c.category]),
      ...Object.values(p.contributes.configuration.properties).map((s: any) => s.markdownDescription ?? s.description),
      ...p.contributes.walkthroughs.flatMap((w: any) => [w.title, w.description, ...w.steps.flatMap((s: any) => [s.title, s.description])])];
    for (const text of shown) assert.match(text, /^%[^%]+%$/, `localised: ${text}`);
  });

  it('finds a hard-coded message, title or button (the check can fail)', () => {
    assert.equal(hardCodedStrings("void vscode.window.showInformationMessage('Await Timeline: run it first.');").length, 1);
    assert.equal(hardCodedStrings('void vscode.window.showErrorMessage(`could not run ${file}`);').length, 1);
    assert.equal(hardCodedStrings("pick.placeholder = 'Pick an exercise';").length, 1);
    assert.equal(hardCodedStrings("  const manage = 'Manage Workspace Trust';").length, 1);
    assert.equal(hardCodedStrings("new vscode.CodeLens(range, { title: '▶ Run with Timeline', command: 'awaitTimeline.run' })").length, 1);
    assert.equal(hardCodedStrings("void vscode.window.showInformationMessage(vscode.l10n.t('Await Timeline: run it first.'));").length, 0);
    assert.equal(hardCodedStrings("{ title, command: '', tooltip: vscode.l10n.t('x y') }").length, 0);
    assert.equal(hardCodedStrings("const SECTION = 'awaitTimeline';").length, 0);
    assert.equal(hardCodedStrings('label: `${exercise.id.slice(0, 2)} · ${exercise.title}`,').length, 0);
    assert.equal(hardCodedStrings('this.item.text = `$(debug-stop) ${name} ${elapsed}`;').length, 0);
  });

  it('the English bundle (l10n/, npm run l10n) has every string the host localises', () => {
    const bundle = JSON.parse(fs.readFileSync(path.join(REPO, 'l10n', 'bundle.l10n.json'), 'utf8')) as Record<string, string>;
    const missing: string[] = [];
    for (const file of sources()) {
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/l10n\.t\(\s*(['"])((?:\\.|(?!\1).)*)\1/g)) {
        const key = m[2]!.replace(/\\(['"\\])/g, '$1');
        if (!(key in bundle)) missing.push(`${path.relative(REPO, file)}: ${key}`);
      }
    }
    assert.deepEqual(missing, [], 'run npm run l10n');
  });

  it('the extension host shows no hard-coded user-facing string', () => {
    const problems: string[] = [];
    for (const file of sources()) {
      fs.readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        for (const hit of hardCodedStrings(line)) problems.push(`${path.relative(REPO, file)}:${i + 1}: ${hit}`);
      });
    }
    assert.deepEqual(problems, [], 'pass these through vscode.l10n.t');
  });
});
