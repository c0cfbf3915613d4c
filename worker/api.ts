/**
 * The simulator as the coordinator calls it in its own thread: one config in, its
 * statistics out (calibration with one thread, a run list without worker threads).
 * Worker threads run it through entry.ts; the tasks they take and the replies they give
 * are in protocol.ts.
 */
export { simulate } from './vm.js';
