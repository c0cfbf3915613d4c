/**
 * Worker-thread entry for the coordinator's piscina pool (loaded from `dist/`).
 *
 * Two tasks. The default one: a msgpackr-encoded SimConfig in, a msgpackr-encoded
 * RunResult out. `runPart`: one replica of a VM split between threads, running the
 * vCPUs placed on it for the whole run and exchanging messages with the other replicas
 * through shared memory at every quantum (worker/smp/sab-exchange.ts); it returns its
 * vCPUs' statistics. Result buffers are moved (transferred), not copied, back to the
 * coordinator.
 *
 * Fault injection, for tests of the coordinator only: the environment variable
 * VCPUSIM_FAULT, read once when the thread starts, holds a comma-separated list of
 *   crash-on-seed:<n>       the thread calls process.exit(70) in every run of seed n
 *   crash-once-on-seed:<n>  the same, on the first attempt only: the first attempt
 *                           creates the marker file <VCPUSIM_FAULT_MARKER_DIR>/seed-<n>
 *                           (exclusively); any later attempt finds it and runs normally
 *   uncaught-on-seed:<n>    an uncaught exception kills the thread mid-run
 *   throw-on-seed:<n>       the task throws (the thread survives)
 * In a split VM the fault hits the last replica only (the others are then stopped).
 * Configs have no field for this, so production runs cannot trigger it; without the
 * variable the entry does nothing but simulate.
 */
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { decodeConfig, encodePartial, encodeResult } from '../shared/codec.js';
import { simulate, Vm } from './vm.js';
import { Partition } from './smp/partition.js';
import { SabExchange, abortExchange } from './smp/sab-exchange.js';
import { ConfigError } from '../shared/config.js';

/** The task piscina passes in. */
export interface SimTask {
  config: Uint8Array;
}

/** The reply: the encoded result and the host seconds the simulation took on this thread. */
export interface SimReply {
  result: Uint8Array;
  hostSeconds: number;
}

type FaultKind = 'crash' | 'crash-once' | 'uncaught' | 'throw';

function parseFaults(spec: string | undefined): Map<number, FaultKind> {
  const faults = new Map<number, FaultKind>();
  if (!spec) return faults;
  for (const item of spec.split(',')) {
    const m = /^(crash|crash-once|uncaught|throw)-on-seed:(\d+)$/.exec(item.trim());
    if (!m) throw new Error(`VCPUSIM_FAULT: cannot parse ${JSON.stringify(item)}`);
    faults.set(Number(m[2]), m[1] as FaultKind);
  }
  return faults;
}

const faults = parseFaults(process.env.VCPUSIM_FAULT);

/** True the first time any thread asks for `seed` (the marker file does not exist yet). */
function firstAttempt(seed: number): boolean {
  const dir = process.env.VCPUSIM_FAULT_MARKER_DIR;
  if (!dir) throw new Error('VCPUSIM_FAULT crash-once needs VCPUSIM_FAULT_MARKER_DIR');
  try {
    closeSync(openSync(join(dir, `seed-${seed}`), 'wx'));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Returns a promise that never settles when the fault kills the thread. */
function injectFault(seed: number): Promise<never> | undefined {
  const kind = faults.get(seed);
  if (kind === undefined) return undefined;
  switch (kind) {
    case 'crash':
      process.exit(70);
    // falls through (process.exit does not return)
    case 'crash-once':
      if (firstAttempt(seed)) process.exit(70);
      return undefined;
    case 'uncaught':
      return new Promise<never>(() => {
        setImmediate(() => {
          throw new Error(`injected uncaught exception on seed ${seed}`);
        });
      });
    case 'throw':
      throw new Error(`injected exception on seed ${seed}`);
  }
}

export default function runTask(task: SimTask): ReturnType<typeof move> | Promise<never> {
  const config = decodeConfig(task.config);
  if (faults.size > 0) {
    const pending = injectFault(config.seed);
    if (pending) return pending;
  }
  const t0 = process.hrtime.bigint();
  const result = encodeResult(simulate(config));
  const reply: SimReply = { result, hostSeconds: Number(process.hrtime.bigint() - t0) / 1e9 };
  // A Transferable: piscina posts the value and transfers the result's buffer with it.
  return move({
    [transferableSymbol]: [result.buffer],
    [valueSymbol]: reply,
  });
}

/** One replica of a split VM. */
export interface PartTask {
  config: Uint8Array;
  /** vCPU ids this replica runs. */
  local: number[];
  index: number;
  count: number;
  ctl: SharedArrayBuffer;
  data: SharedArrayBuffer;
  capacity: number;
}

export interface PartReply {
  partial: Uint8Array;
  /** Host seconds of the run (set-up excluded) and of the set-up. */
  hostSeconds: number;
  setupSeconds: number;
  quanta: number;
}

/** A replica that stopped on a config error (not a fault: retrying would fail the same way). */
export interface PartConfigError {
  configError: { field: string; value: unknown; allowed: string };
}

export function runPart(task: PartTask): ReturnType<typeof move> | Promise<never> | PartConfigError {
  const config = decodeConfig(task.config);
  if (faults.size > 0 && task.index === task.count - 1) {
    const pending = injectFault(config.seed);
    if (pending) return pending;
  }
  try {
    const t0 = process.hrtime.bigint();
    const vm = new Vm(config, {}, task.local);
    const t1 = process.hrtime.bigint();
    const part = new Partition(vm);
    part.run(task.count === 1 ? undefined : new SabExchange(task.ctl, task.data, task.index, task.count, task.capacity));
    const partial = encodePartial(vm.partial());
    const reply: PartReply = {
      partial,
      hostSeconds: Number(process.hrtime.bigint() - t1) / 1e9,
      setupSeconds: Number(t1 - t0) / 1e9,
      quanta: part.quanta,
    };
    return move({
      [transferableSymbol]: [partial.buffer],
      [valueSymbol]: reply,
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    abortExchange(task.ctl); // the other replicas stop waiting for this one
    return { configError: { field: err.field, value: err.value, allowed: err.allowed } };
  }
}
