#!/usr/bin/env node
// A plain `run` starts its worker thread first: it boots while the command line loads (cli/early.ts).
import { startEarly } from '../dist/coordinator/cli/early.js';

await startEarly(process.argv);
const { main } = await import('../dist/coordinator/cli/main.js');
process.exitCode = await main(process.argv);
