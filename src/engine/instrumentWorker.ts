// The threads a big module is prepared in (see transformInWorker), one task each: the transform,
// or, from the same source, what the insights need of the code (the overlap candidates), so that
// the engine never parses the module itself. The parser's garbage (hundreds of MB for a module of
// 100,000 awaits) goes with each thread: in one thread, the second parse would pile on the first's.
import { parentPort, workerData } from 'node:worker_threads';

import type { ModuleFormat } from '../runtime/moduleFormat';
import { transformModule, type WorkerAnswer } from './instrument';
import { findOverlapCandidates } from './overlap';

const { task, source, file, format } = workerData as { task: 'transform' | 'overlap'; source: string; file: string; format: ModuleFormat | undefined };
let answer: WorkerAnswer;
const transfer: ArrayBuffer[] = [];
if (task === 'overlap') {
  // As attachInsights does it on the engine's thread: an analysis that fails leaves insights out.
  try {
    answer = { candidates: findOverlapCandidates(source, file) };
  } catch {
    answer = { candidates: null };
  }
} else {
  const t = transformModule();
  try {
    const r = t.transformSnippet(source, { file, format });
    // What the run needs of the result (its sites go to the child inside the code), the code as
    // the bytes the child is sent, handed over without a copy.
    const code = new TextEncoder().encode(r.code);
    transfer.push(code.buffer as ArrayBuffer);
    answer = { result: { code, format: r.format, localImports: r.localImports } };
  } catch (err) {
    if (!(err instanceof t.CompileError)) throw err;
    answer = { compileError: { message: err.message, line: err.line, column: err.column } };
  }
}
parentPort!.postMessage(answer, transfer);
