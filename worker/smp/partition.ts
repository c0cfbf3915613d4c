/**
 * The quantum loop of a multi-vCPU VM, for the vCPUs one replica runs.
 *
 * Each quantum: run every local vCPU to the quantum's end; let the owners of state emit
 * what the others must see; swap records with the other replicas (nothing to swap when
 * one replica runs every vCPU; shared memory between worker threads otherwise:
 * coordinator/execution/split.ts); merge all records in (time, vCPU, seq) order; balance the
 * run queues. The run ends at the first quantum's end by which every task has exited, or
 * the workload has said its measured part is over (Kernel.finish).
 */
import type { VmPartial } from '../../shared/partial.js';
import type { RecordBus } from './bus.js';
import type { Exchange } from './exchange.js';
import { Inbox, type Run } from './msgbuf.js';

/** What the quantum loop needs of a replica of the VM (vm.ts). */
export interface Replica {
  readonly bus: RecordBus;
  /** Cycles of simulated time per quantum. */
  readonly quantumCycles: number;
  /** Simulated cycles after which a run is a model bug. */
  readonly limitCycles: number;
  /** Tasks in the VM as of the last merge (a fork elsewhere is known here once merged). */
  taskCount(): number;
  /** Tasks that have exited on this replica's vCPUs. */
  exitedHere(): number;
  /** The workload finished its measured part (known to every replica at the same merge). */
  readonly ended: boolean;
  /** Run every local vCPU up to cycle `end`. */
  runLocalUntil(end: number): void;
  /** Merge the records of a quantum. */
  deliver(inbox: Inbox): void;
  /** After the merge of quantum `n` (not the last): the guest's load balancing (and the statistics' start, when the measured part has begun). */
  rebalance(n: number): void;
  /** The run is over: the final translation check. */
  finalCheck(): void;
  stuck(): never;
  /** The workload's time marks, and whether each is a 'first' (1) or a 'last' (2) mark. */
  readonly marks: Float64Array;
  readonly markKinds: Float64Array;
  markFirst(i: number, cycles: number): void;
  markLast(i: number, cycles: number): void;
}

export class Partition {
  /** Quanta run. */
  quanta = 0;
  private readonly inbox = new Inbox();

  constructor(readonly vm: Replica) {}

  get exited(): number {
    return this.vm.exitedHere();
  }

  /** Run the local vCPUs through the next quantum; returns their records merged (valid until deliver()). */
  runQuantum(): Run {
    this.advance();
    return this.vm.bus.collect();
  }

  /** Run the local vCPUs through the next quantum. */
  advance(): void {
    const vm = this.vm;
    vm.runLocalUntil((this.quanta + 1) * vm.quantumCycles);
    vm.bus.endQuantum();
  }

  /**
   * The quantum's end: merge every replica's records. Returns true when the run is over:
   * then the records the merge itself produced (the last address spaces torn down)
   * remain, for finish().
   */
  deliver(parts: readonly Run[], exitedTotal: number): boolean {
    const vm = this.vm;
    this.inbox.fill(parts);
    vm.bus.clearOut();
    vm.deliver(this.inbox);
    const n = this.quanta++;
    if (exitedTotal >= vm.taskCount() || vm.ended) return true;
    if (this.quanta * vm.quantumCycles > vm.limitCycles) vm.stuck();
    vm.rebalance(n);
    return false;
  }

  /** This replica's workload time marks and their kinds, to combine with the others'. */
  marks(): Run {
    const { marks, markKinds } = this.vm;
    const out = new Float64Array(marks.length * 2);
    out.set(marks);
    out.set(markKinds, marks.length);
    return { data: out, start: 0, end: out.length };
  }

  /** Combine every replica's marks (earliest 'first' mark, latest 'last'). */
  mergeMarks(parts: readonly Run[]): void {
    const vm = this.vm;
    const n = vm.marks.length;
    for (const { data, start } of parts) {
      for (let i = 0; i < n; i++) {
        const x = data[start + i]!;
        if (Number.isNaN(x)) continue;
        if (data[start + n + i] === 1) vm.markFirst(i, x);
        else vm.markLast(i, x);
      }
    }
  }

  /** After the last quantum: merge the records left (every replica's), then the final translation check. */
  finish(parts: readonly Run[]): void {
    const vm = this.vm;
    this.inbox.fill(parts);
    vm.bus.clearOut();
    vm.deliver(this.inbox);
    vm.finalCheck();
  }

  /** The whole run over an exchange (none: this replica runs every vCPU). */
  run(exchange?: Exchange): void {
    while (!this.step(exchange));
  }

  /**
   * One quantum of the run over `exchange` (none: this replica runs every vCPU). Returns
   * true when the run is over (then finished). A caller may do other things between two
   * steps (live control calls): the simulation does not see them.
   */
  step(exchange?: Exchange): boolean {
    const bus = this.vm.bus;
    if (exchange === undefined) {
      // Every vCPU is here: merge their records straight from their own buffers.
      this.advance();
      if (!this.deliver(bus.parts(), this.exited)) return false;
      this.finish(bus.parts());
      return true;
    }
    this.advance();
    const slot = exchange.slot;
    let reply;
    if (slot !== undefined) {
      // Merge the local vCPUs' records straight into this replica's slot of shared memory.
      const start = slot.start();
      const end = bus.collectInto(slot.data, start, slot.capacity);
      reply = slot.publish(end - start, this.exited);
    } else reply = exchange.swap(bus.collect(), this.exited);
    if (!this.deliver(reply.parts, reply.exited)) return false;
    this.finish(exchange.swap(bus.collect(), this.exited).parts);
    this.mergeMarks(exchange.swap(this.marks(), this.exited).parts);
    return true;
  }
}

/**
 * Run one VM as several replicas in this thread, replica r running the vCPUs
 * `placement[r]`, and combine their statistics. (What worker threads do in parallel,
 * done in turn: the result is the same.)
 */
export function runSplit(makeReplica: (local: readonly number[]) => Replica & { partial(): VmPartial }, placement: readonly (readonly number[])[]): VmPartial[] {
  const replicas = placement.map((local) => makeReplica(local));
  const parts = replicas.map((r) => new Partition(r));
  for (;;) {
    const recs = parts.map((p) => copyRun(p.runQuantum()));
    const exited = parts.reduce((a, p) => a + p.exited, 0);
    let done = false;
    for (const p of parts) done = p.deliver(recs, exited);
    if (done) break;
  }
  const rest = parts.map((p) => copyRun(p.vm.bus.collect()));
  for (const p of parts) p.finish(rest);
  const marks = parts.map((p) => p.marks());
  for (const p of parts) p.mergeMarks(marks);
  return replicas.map((r) => r.partial());
}

function copyRun(r: Run): Run {
  const data = r.data.slice(r.start, r.end);
  return { data, start: 0, end: data.length };
}
