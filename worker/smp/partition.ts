/**
 * The quantum loop of a multi-vCPU VM, for the vCPUs one replica runs.
 *
 * Each quantum: run every local vCPU to the quantum's end; publish what the others must
 * see; swap messages with the other replicas (nothing to swap when one replica runs
 * every vCPU; shared memory between worker threads otherwise: coordinator/vm-split.ts);
 * merge all messages in (time, vCPU, seq) order; balance the run queues. The run ends at
 * the first quantum's end by which every task has exited.
 */
import { Inbox, type Run } from './bus.js';
import { SabExchange } from './sab-exchange.js';
import type { Vm } from '../vm.js';

export interface Exchange {
  /**
   * Hand over this replica's records and its count of exited tasks; get back every
   * replica's records (this one's included) and the total of exited tasks.
   */
  swap(records: Run, exited: number): { parts: readonly Run[]; exited: number };
}

export class Partition {
  /** Quanta run. */
  quanta = 0;
  private readonly inbox = new Inbox();
  private readonly total: number;

  constructor(readonly vm: Vm) {
    this.total = vm.kernel.liveTasks;
  }

  /** Tasks that exited on this replica's vCPUs. */
  get exited(): number {
    return this.vm.kernel.smp!.exited;
  }

  /** Run the local vCPUs through the next quantum; returns their messages merged (valid until deliver()). */
  runQuantum(): Run {
    this.advance();
    return this.vm.kernel.smp!.collect();
  }

  /** Run the local vCPUs through the next quantum. */
  advance(): void {
    const vm = this.vm;
    const smp = vm.kernel.smp!;
    const end = (this.quanta + 1) * vm.quantumCycles();
    vm.guard(() => {
      for (const v of vm.local) vm.runUntil(v, end);
    });
    smp.endQuantum();
  }

  /**
   * The quantum's end: merge every replica's messages. Returns true when the run is over:
   * then the messages the merge itself produced (the last address spaces torn down)
   * remain, for finish().
   */
  deliver(parts: readonly Run[], exitedTotal: number): boolean {
    const vm = this.vm;
    const smp = vm.kernel.smp!;
    this.inbox.fill(parts);
    smp.clearOut();
    vm.guard(() => smp.deliver(this.inbox));
    const n = this.quanta++;
    if (exitedTotal >= this.total) return true;
    if (this.quanta * vm.quantumCycles() > vm.limitCycles) vm.stuck();
    smp.balance(n);
    return false;
  }

  /** This replica's workload time marks and their kinds, to combine with the others'. */
  marks(): Run {
    const k = this.vm.kernel;
    const out = new Float64Array(k.marks.length * 2);
    out.set(k.marks);
    out.set(k.markKinds, k.marks.length);
    return { data: out, start: 0, end: out.length };
  }

  /** Combine every replica's marks (earliest 'first' mark, latest 'last'). */
  mergeMarks(parts: readonly Run[]): void {
    const k = this.vm.kernel;
    const n = k.marks.length;
    for (const { data, start } of parts) {
      for (let i = 0; i < n; i++) {
        const x = data[start + i]!;
        if (Number.isNaN(x)) continue;
        if (data[start + n + i] === 1) k.markFirst(i, x);
        else k.markLast(i, x);
      }
    }
  }

  /** After the last quantum: merge the messages left (every replica's), then the final translation check. */
  finish(parts: readonly Run[]): void {
    const smp = this.vm.kernel.smp!;
    this.inbox.fill(parts);
    smp.clearOut();
    this.vm.guard(() => smp.deliver(this.inbox));
    this.vm.kernel.checkpoint();
  }

  /** The whole run over an exchange (none: this replica runs every vCPU). */
  run(exchange?: Exchange): void {
    const smp = this.vm.kernel.smp!;
    if (exchange === undefined) {
      // Every vCPU is here: merge their messages straight from their own buffers.
      do this.advance();
      while (!this.deliver(smp.parts(), this.exited));
      this.finish(smp.parts());
      return;
    }
    for (;;) {
      this.advance();
      let reply;
      if (exchange instanceof SabExchange) {
        // Merge the local vCPUs' messages straight into this replica's slot of shared memory.
        const start = exchange.slotStart();
        const end = smp.collectInto(exchange.slotData, start, exchange.capacity);
        reply = exchange.publish(end - start, this.exited);
      } else reply = exchange.swap(smp.collect(), this.exited);
      if (this.deliver(reply.parts, reply.exited)) break;
    }
    this.finish(exchange.swap(smp.collect(), this.exited).parts);
    this.mergeMarks(exchange.swap(this.marks(), this.exited).parts);
  }
}

/**
 * Run one VM as several replicas in this thread, replica r running the vCPUs
 * `placement[r]`, and combine their statistics. (What worker threads do in parallel,
 * done in turn: the result is the same.)
 */
export function runSplit(makeVm: (local: readonly number[]) => Vm, placement: readonly (readonly number[])[]) {
  const parts = placement.map((local) => new Partition(makeVm(local)));
  for (;;) {
    const recs = parts.map((p) => copyRun(p.runQuantum()));
    const exited = parts.reduce((a, p) => a + p.exited, 0);
    let done = false;
    for (const p of parts) done = p.deliver(recs, exited);
    if (done) break;
  }
  const rest = parts.map((p) => copyRun(p.vm.kernel.smp!.collect()));
  for (const p of parts) p.finish(rest);
  const marks = parts.map((p) => p.marks());
  for (const p of parts) p.mergeMarks(marks);
  return parts.map((p) => p.vm.partial());
}

function copyRun(r: Run): Run {
  const data = r.data.slice(r.start, r.end);
  return { data, start: 0, end: data.length };
}
