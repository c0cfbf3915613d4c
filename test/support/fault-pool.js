/** dist/coordinator/pool.js, with pools whose threads load fault-entry.js unless told otherwise (see fault-hooks.js). */
import { SimPool as BuiltSimPool } from '../../dist/coordinator/pool.js';

export * from '../../dist/coordinator/pool.js';

const FAULT_ENTRY = new URL('./fault-entry.js', import.meta.url);

export class SimPool extends BuiltSimPool {
  constructor(opts = {}) {
    super({ entry: FAULT_ENTRY, ...opts });
  }
}
