// Mocha entry loaded by the extension host as `extensionTestsPath`: runs the compiled suites it is told about.
//
// It runs inside code-server's extension host (Node 24), launched by runExtensionTests() in
// codeServer.ts, which passes through the server's environment:
//   E2E_INTEGRATION_FILES        JSON array of absolute paths of compiled *.test.js files
//   E2E_EXTENSION_TESTS_OUTPUT   file that receives everything the suite prints (the extension host's
//                                console goes to the browser, not to our terminal)
//   E2E_MOCHA_GREP               optional mocha --grep
// Suites use mocha's BDD globals (describe/it), like test/unit.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';

/**
 * Copies what the suite prints into outputFile. The extension host's console methods are accessors
 * that ignore assignment, so they are redefined; mocha's reporters print through Base.consoleLog,
 * which mocha captured from console.log when it loaded, so that is replaced too.
 */
function teeOutput(outputFile: string | undefined): void {
  if (!outputFile) return;
  const write = (text: string): void => fs.appendFileSync(outputFile, text);
  for (const method of ['log', 'info', 'warn', 'error'] as const) {
    const original = console[method].bind(console);
    Object.defineProperty(console, method, {
      configurable: true,
      enumerable: true,
      writable: true,
      value: (...args: unknown[]) => {
        write(`${format(...args)}\n`);
        original(...args);
      },
    });
  }
  Mocha.reporters.Base.consoleLog = (...args: unknown[]) => write(`${format(...args)}\n`);
  const originalWrite = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    write(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return originalWrite(chunk, ...rest);
  }) as typeof process.stdout.write;
}

export async function run(): Promise<void> {
  teeOutput(process.env.E2E_EXTENSION_TESTS_OUTPUT);
  const files: unknown = JSON.parse(process.env.E2E_INTEGRATION_FILES ?? '[]');
  if (!Array.isArray(files) || !files.every((f): f is string => typeof f === 'string')) {
    throw new Error('E2E_INTEGRATION_FILES must be a JSON array of paths');
  }
  const mocha = new Mocha({ ui: 'bdd', reporter: 'spec', color: false, timeout: 60_000 });
  if (process.env.E2E_MOCHA_GREP) mocha.grep(process.env.E2E_MOCHA_GREP);
  for (const file of files) mocha.addFile(path.resolve(file));
  console.log(`[extension host] node ${process.version}, ${files.length} suite file(s)`);
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} test(s) failed`);
}
