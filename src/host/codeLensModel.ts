// Where the CodeLenses go and what they say (no 'vscode': tested in Node): "Run with Timeline" above
// the first line that awaits or declares an async function, and a ✓/✗ lens on each graded @expect line.
import type { ExpectationResult, Language } from '../shared/timeline';

/**
 * The editor languages (VS Code language ids) that run with the timeline, the language each runs
 * as, and the extension an unsaved buffer of it runs under. package.json's menus, keybinding and
 * activation events list the same ids (test/unit/codelens.test.ts checks).
 */
export const EDITOR_LANGUAGES: Readonly<Record<string, { language: Language; ext: string }>> = {
  typescript: { language: 'typescript', ext: '.ts' },
  typescriptreact: { language: 'typescript', ext: '.tsx' },
  javascript: { language: 'javascript', ext: '.js' },
  javascriptreact: { language: 'javascript', ext: '.jsx' },
  python: { language: 'python', ext: '.py' },
};

/** A line (0-based) that starts async code: `await`, `async def`, `async function`, an async arrow or method. */
const ASYNC_JS = /\bawait\b|\basync\s+(?:function\b|\(|[A-Za-z_$][\w$]*\s*(?:=>|\())|\bfor\s+await\b/;
const ASYNC_PY = /\bawait\b|\basync\s+(?:def|with|for)\b|\basyncio\.run\s*\(/;

/** The line comment a language uses. */
const COMMENT: Record<Language, RegExp> = { typescript: /^\s*(?:\/\/|\/\*|\*)/, javascript: /^\s*(?:\/\/|\/\*|\*)/, python: /^\s*#/ };

/**
 * The 0-based line of the first async region, where "Run with Timeline" goes; undefined when the
 * file has none (a lens on a file with nothing to draw would only be noise). Comment lines and the
 * text of strings on a line are not code, so `// await me` and `"await"` do not count.
 */
export function firstAsyncLine(source: string, language: Language): number | undefined {
  const pattern = language === 'python' ? ASYNC_PY : ASYNC_JS;
  const lines = source.split(/\r?\n/);
  let inBlockComment = false;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (language !== 'python') {
      if (inBlockComment) {
        const end = line.indexOf('*/');
        if (end < 0) continue;
        line = line.slice(end + 2);
        inBlockComment = false;
      }
      const open = line.indexOf('/*');
      if (open >= 0 && line.indexOf('*/', open + 2) < 0) {
        inBlockComment = true;
        line = line.slice(0, open);
      }
    }
    if (COMMENT[language].test(line)) continue;
    const code = stripStrings(line, language);
    if (pattern.test(code)) return i;
  }
  return undefined;
}

/** The line without the contents of its string literals and its trailing comment. */
function stripStrings(line: string, language: Language): string {
  const noStrings = line.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`/g, '""');
  const comment = language === 'python' ? noStrings.indexOf('#') : noStrings.indexOf('//');
  return comment >= 0 ? noStrings.slice(0, comment) : noStrings;
}

/**
 * Whether the lens of a graded @expect line still belongs on this line: it says what was graded
 * (an edit that moved or changed it makes the old grade meaningless there).
 */
export function stillGraded(result: ExpectationResult, lineText: string): boolean {
  return lineText.includes('@expect') && lineText.includes(result.text);
}

/** The lens of a graded (well-formed) expectation: ✓ or ✗ and what the run showed. */
export function gradeLensText(result: ExpectationResult): string {
  return `${result.passed ? '✓' : '✗'} ${result.actual}`;
}
