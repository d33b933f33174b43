// The `await-timeline` command's entry, kept small: a run's child is started first (see
// cliEarly.ts), then the rest of the CLI (cliMain.ts, a bundle of its own: the engine, the
// exports, the chart) loads while node starts in the child.
import * as path from 'node:path';

import { startEarlyChild } from './cliEarly';

const argv = process.argv.slice(2);
const early = startEarlyChild(argv);
// Built: dist/cliMain.js beside this bundle; from the sources (tsx): cliMain.ts.
const main = path.join(__dirname, __filename.endsWith('.ts') ? 'cliMain.ts' : 'cliMain.js');
(require(main) as typeof import('./cliMain')).runCli(argv, early);
