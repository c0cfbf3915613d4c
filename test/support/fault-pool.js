/**
 * dist/coordinator/execution/pool.js, with pools whose threads load fault-entry.js unless told
 * otherwise (see fault-hooks.js); with VCPUSIM_POOL_READY set, a pool writes that file
 * once it is made.
 */
import { writeFileSync } from 'node:fs';
import { SimPool as BuiltSimPool } from '../../dist/coordinator/execution/pool.js';

export * from '../../dist/coordinator/execution/pool.js';

const FAULT_ENTRY = new URL('./fault-entry.js', import.meta.url);

export class SimPool extends BuiltSimPool {
  constructor(opts = {}) {
    super({ entry: FAULT_ENTRY, ...opts });
    // A test that must know when runs can start (to interrupt one) waits for this file.
    if (process.env.VCPUSIM_POOL_READY) writeFileSync(process.env.VCPUSIM_POOL_READY, '');
  }
}
