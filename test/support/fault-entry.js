/**
 * A worker entry for tests of the coordinator: the built entry (dist/worker/entry.js),
 * with faults injected before it runs. Pools load it instead of the built entry when a
 * test asks (`new SimPool({ entry })`, or fault-hooks.js in a spawned CLI).
 *
 * The environment variable VCPUSIM_FAULT, read once when the thread starts, holds a
 * comma-separated list of
 *   crash-on-seed:<n>       the thread calls process.exit(70) in every run of seed n
 *   crash-once-on-seed:<n>  the same, on the first attempt only: the first attempt
 *                           creates the marker file <VCPUSIM_FAULT_MARKER_DIR>/seed-<n>
 *                           (exclusively); any later attempt finds it and runs normally
 *   uncaught-on-seed:<n>    an uncaught exception kills the thread mid-run
 *   throw-on-seed:<n>       the task throws (the thread survives)
 * In a split VM the fault hits the last replica only (the others are then stopped).
 * Without the variable the entry only simulates.
 */
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { decodeConfig } from '../../dist/shared/codec.js';
import runTask, { runPart as runRealPart } from '../../dist/worker/entry.js';

function parseFaults(spec) {
  const faults = new Map();
  if (!spec) return faults;
  for (const item of spec.split(',')) {
    const m = /^(crash|crash-once|uncaught|throw)-on-seed:(\d+)$/.exec(item.trim());
    if (!m) throw new Error(`VCPUSIM_FAULT: cannot parse ${JSON.stringify(item)}`);
    faults.set(Number(m[2]), m[1]);
  }
  return faults;
}

const faults = parseFaults(process.env.VCPUSIM_FAULT);

/** True the first time any thread asks for `seed` (the marker file does not exist yet). */
function firstAttempt(seed) {
  const dir = process.env.VCPUSIM_FAULT_MARKER_DIR;
  if (!dir) throw new Error('VCPUSIM_FAULT crash-once needs VCPUSIM_FAULT_MARKER_DIR');
  try {
    closeSync(openSync(join(dir, `seed-${seed}`), 'wx'));
    return true;
  } catch (err) {
    if (err.code === 'EEXIST') return false;
    throw err;
  }
}

/** Returns a promise that never settles when the fault kills the thread. */
function injectFault(seed) {
  switch (faults.get(seed)) {
    case 'crash':
      process.exit(70);
    // falls through (process.exit does not return)
    case 'crash-once':
      if (firstAttempt(seed)) process.exit(70);
      return undefined;
    case 'uncaught':
      return new Promise(() => {
        setImmediate(() => {
          throw new Error(`injected uncaught exception on seed ${seed}`);
        });
      });
    case 'throw':
      throw new Error(`injected exception on seed ${seed}`);
    default:
      return undefined;
  }
}

export default function runTaskWithFaults(task) {
  if (faults.size > 0) {
    const pending = injectFault(decodeConfig(task.config).seed);
    if (pending) return pending;
  }
  return runTask(task);
}

export function runPart(task) {
  if (faults.size > 0 && task.index === task.count - 1) {
    const pending = injectFault(decodeConfig(task.config).seed);
    if (pending) return pending;
  }
  return runRealPart(task);
}
