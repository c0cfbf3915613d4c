/**
 * Preload for a spawned CLI under test (`node --import <this file> bin/vcpusim.js ...`):
 * its worker pools load fault-entry.js, which injects the faults VCPUSIM_FAULT names.
 *
 * A module resolve hook hands the coordinator fault-pool.js in place of
 * dist/coordinator/execution/pool.js. (Redirecting dist/worker/entry.js itself would not do:
 * piscina loads the entry in its threads with require(), which module.register hooks
 * do not see on Node 20.) Worker threads run this preload too; they need no hook.
 */
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) register('./fault-resolve.js', import.meta.url);
