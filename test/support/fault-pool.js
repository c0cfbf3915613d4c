/**
 * dist/coordinator/execution/pool.js, with pools whose threads load fault-entry.js unless told
 * otherwise (see fault-hooks.js); with VCPUSIM_POOL_READY set, a pool writes that file
 * when it is given its first task (the command's signal handlers are then in place: a plain
 * `run` makes its pool before the command line loads, cli/early.ts, so the pool's making
 * says nothing about them).
 */
import { writeFileSync } from 'node:fs';
import { SimPool as BuiltSimPool } from '../../dist/coordinator/execution/pool.js';

export * from '../../dist/coordinator/execution/pool.js';

const FAULT_ENTRY = new URL('./fault-entry.js', import.meta.url);

/** A test that must know when a run has started (to interrupt it) waits for this file. */
function tasked() {
  if (process.env.VCPUSIM_POOL_READY) writeFileSync(process.env.VCPUSIM_POOL_READY, '');
}

export class SimPool extends BuiltSimPool {
  constructor(opts = {}) {
    super({ entry: FAULT_ENTRY, ...opts });
  }

  run(...args) {
    tasked();
    return super.run(...args);
  }

  runPart(...args) {
    tasked();
    return super.runPart(...args);
  }

  runLive(...args) {
    tasked();
    return super.runLive(...args);
  }
}
