/**
 * A replica of a VM that answers control calls while it runs (`run --live`): between
 * two quanta (a VM of one vCPU: between two slices of LIVE_STEPS steps) it serves the
 * comlink calls waiting on its control port — progress, the current counters, cancel —
 * and when its run is over it stays to answer until the coordinator releases it, so
 * that the last counters read are the final ones. The calls only read: the simulation
 * runs the same steps whether anyone asks or not.
 *
 * The replica's loop is synchronous, so the port is read with receiveMessageOnPort at
 * the boundaries (no 'message' events), and only when the caller has raised the
 * replica's `flag` (one Int32 in shared memory) after posting: a quantum costs one
 * Atomics.load when nobody asks.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { expose, type Endpoint } from 'comlink';
import { moved, type Moved } from './moved.js';
import { decodeConfig, encodePartial } from '../shared/codec.js';
import { ConfigError } from '../shared/errors.js';
import { kvmCountersOfVcpus } from '../shared/kvm-stat.js';
import { Vm } from './vm.js';
import { Partition } from './smp/partition.js';
import { ExchangeAborted, SabExchange, abortExchange } from './smp/sab-exchange.js';
import type { LiveTask, PartAborted, PartCancelled, PartConfigError, PartReply, ReplicaControl } from './protocol.js';

/** Steps of a one-vCPU VM between two looks at the control port. */
export const LIVE_STEPS = 20_000;

/** A comlink endpoint over a port read synchronously at the replica's boundaries. */
class PolledEndpoint implements Endpoint {
  private readonly listeners: EventListenerOrEventListenerObject[] = [];
  constructor(private readonly port: MessagePort) {}

  postMessage(message: unknown, transfer?: Transferable[]): void {
    this.port.postMessage(message, transfer as never);
  }

  addEventListener(_type: string, listener: EventListenerOrEventListenerObject): void {
    this.listeners.push(listener);
  }

  removeEventListener(_type: string, listener: EventListenerOrEventListenerObject): void {
    const i = this.listeners.indexOf(listener);
    if (i >= 0) this.listeners.splice(i, 1);
  }

  /** Hand every waiting message to comlink. */
  drain(): void {
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) {
      const ev = { data: m.message as unknown } as MessageEvent;
      for (const l of this.listeners) {
        if (typeof l === 'function') l(ev);
        else l.handleEvent(ev);
      }
    }
  }
}

/** Atomics.waitAsync (Node 20 has it; the TypeScript lib of this target does not declare it). */
const waitAsync = (a: Int32Array, i: number, v: number, ms: number): { async: boolean; value: unknown } =>
  (Atomics as unknown as { waitAsync: (a: Int32Array, i: number, v: number, ms: number) => { async: boolean; value: unknown } }).waitAsync(a, i, v, ms);

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function runLive(task: LiveTask): Promise<Moved<PartReply> | PartConfigError | PartAborted | PartCancelled> {
  const config = decodeConfig(task.config);
  const flag = new Int32Array(task.flag);
  const ep = new PolledEndpoint(task.control);
  let cancelled = false;
  let released = false;
  let done = false;
  let vm: Vm | undefined;
  let part: Partition | undefined;
  let slices = 0;
  const clockHz = () => vm!.c.clockHz;
  const control: ReplicaControl = {
    progress: () => {
      const { cycles, measured } = vm!.clocks();
      return {
        quanta: part?.quanta ?? slices,
        guestNs: (cycles * 1e9) / clockHz(),
        measuredNs: (measured * 1e9) / clockHz(),
        exited: vm!.exitedHere(),
        tasks: vm!.taskCount(),
        done,
      };
    },
    counters: () => ({
      counters: kvmCountersOfVcpus(vm!.local.map((cpu) => ({ exitCount: cpu.vcpu.vmx.exitCount, mmu: vm!.stats.vcpu(cpu.id).mmu, tlbFlush: cpu.vcpu.vmx.times.tlbFlush, signalExits: cpu.vcpu.vmx.times.signalExits }))),
      measuredNs: (vm!.clocks().measured * 1e9) / clockHz(),
    }),
    cancel: () => {
      cancelled = true;
      if (task.count > 1) abortExchange(task.ctl);
    },
    release: () => {
      released = true;
    },
  };
  /** Answer the calls waiting, and let comlink post its replies. */
  const serve = async (): Promise<void> => {
    Atomics.store(flag, 0, 0);
    ep.drain();
    await nextTurn();
  };
  try {
    const t0 = process.hrtime.bigint();
    vm = new Vm(config, {}, task.local);
    const t1 = process.hrtime.bigint();
    expose(control, ep);
    const exchange = task.count === 1 ? undefined : new SabExchange(task.ctl, task.data, task.index, task.count, task.capacity);
    if (config.vcpus > 1) part = new Partition(vm);
    while (!done) {
      if (part !== undefined) done = part.step(exchange);
      else {
        done = vm.runOneFor(LIVE_STEPS);
        slices++;
      }
      if (Atomics.load(flag, 0) !== 0) await serve();
      if (cancelled && !done) return { cancelled: true, quanta: part?.quanta ?? slices };
    }
    const hostSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
    // Answer until released (or cancelled: nothing more to read).
    while (!released && !cancelled) {
      const w = waitAsync(flag, 0, 0, 1000);
      if (w.async) await w.value;
      await serve();
    }
    const partial = encodePartial(vm.partial());
    const reply: PartReply = { partial, hostSeconds, setupSeconds: Number(t1 - t0) / 1e9, quanta: part?.quanta ?? 1 };
    return moved(reply, [partial.buffer]);
  } catch (err) {
    if (err instanceof ExchangeAborted) return cancelled ? { cancelled: true, quanta: part?.quanta ?? 0 } : { aborted: true };
    if (!(err instanceof ConfigError)) throw err;
    abortExchange(task.ctl);
    return { configError: { field: err.field, value: err.value, allowed: err.allowed, detail: err.detail } };
  } finally {
    task.control.close();
  }
}
