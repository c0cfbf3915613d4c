/**
 * Worker-thread entry for the coordinator's piscina pool (loaded from `dist/`).
 *
 * Two tasks. The default one: a msgpackr-encoded SimConfig in, a msgpackr-encoded
 * RunResult out. `runPart`: one replica of a VM split between threads, running the
 * vCPUs placed on it for the whole run and exchanging messages with the other replicas
 * through shared memory at every quantum (worker/smp/sab-exchange.ts); it returns its
 * vCPUs' statistics. Result buffers are moved (transferred), not copied, back to the
 * coordinator.
 */
import { moved, type Moved } from './moved.js';
import { decodeConfig, encodePartial, encodeResult } from '../shared/codec.js';
import { simulate, Vm } from './vm.js';
import { Partition } from './smp/partition.js';
import { ExchangeAborted, SabExchange, abortExchange } from './smp/sab-exchange.js';
import { ConfigError } from '../shared/errors.js';
import type { PartAborted, PartConfigError, PartReply, PartTask, SimReply, SimTask } from './protocol.js';

export default function runTask(task: SimTask): Moved<SimReply> | PartConfigError {
  const config = decodeConfig(task.config);
  const t0 = process.hrtime.bigint();
  let result: Uint8Array;
  try {
    result = encodeResult(simulate(config, task.overrides));
  } catch (err) {
    // A config the guest does not fit in is an answer, not a fault: its parts go back as data.
    if (!(err instanceof ConfigError)) throw err;
    return { configError: { field: err.field, value: err.value, allowed: err.allowed, detail: err.detail } };
  }
  const reply: SimReply = { result, hostSeconds: Number(process.hrtime.bigint() - t0) / 1e9 };
  // A Transferable: piscina posts the value and transfers the result's buffer with it.
  return moved(reply, [result.buffer]);
}

export function runPart(task: PartTask): Moved<PartReply> | PartConfigError | PartAborted {
  const config = decodeConfig(task.config);
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
    return moved(reply, [partial.buffer]);
  } catch (err) {
    if (err instanceof ExchangeAborted) return { aborted: true };
    if (!(err instanceof ConfigError)) throw err;
    abortExchange(task.ctl); // the other replicas stop waiting for this one
    return { configError: { field: err.field, value: err.value, allowed: err.allowed, detail: err.detail } };
  }
}

/** A replica that answers live control calls between quanta (live.ts). */
export { runLive } from './live.js';
