/**
 * The exchange between replicas of one VM on different worker threads: shared memory
 * and a barrier. Each replica writes its records of the quantum into its own slot of a
 * SharedArrayBuffer, arrives at the barrier, then reads every replica's slot. Slots come
 * in two banks used in alternate rounds, so one barrier per quantum is enough: a
 * replica can only write a bank again after every replica has passed the barrier that
 * follows their reading of it.
 *
 * Layout of `ctl` (Int32Array): [arrived, generation, abort, sleepers, len[bank][replica]...,
 * exited[bank][replica]...]. `data` (Float64Array): [replica][bank][capacity].
 */
import { availableParallelism } from 'node:os';
import type { Exchange, SwapReply } from './exchange.js';
import type { Run } from './msgbuf.js';

const ARRIVED = 0;
const GENERATION = 1;
const ABORT = 2;
const SLEEPERS = 3;
const HEAD = 4;

/** Longest spin at the barrier, ns, and the shortest the adaptive budget falls to. */
const MAX_SPIN_NS = 200_000;
const MIN_SPIN_NS = 2_000;
/** Loads between two clock reads while spinning. */
const SPIN_CHECK = 64;

/** Int32 slots of the control block for `parts` replicas. */
export function controlWords(parts: number): number {
  return HEAD + 4 * parts;
}

export class ExchangeAborted extends Error {
  constructor() {
    super('another part of the VM failed');
    this.name = 'ExchangeAborted';
  }
}

/** Tell every replica waiting at the barrier to give up (the coordinator, when a thread died). */
export function abortExchange(ctl: SharedArrayBuffer): void {
  const c = new Int32Array(ctl);
  Atomics.store(c, ABORT, 1);
  Atomics.add(c, GENERATION, 1);
  Atomics.notify(c, GENERATION);
}

export class SabExchange implements Exchange {
  private readonly ctl: Int32Array;
  private readonly data: Float64Array;
  private round = 0;
  /** Each replica's slot of the bank just swapped, and the reply (both reused every quantum). */
  private readonly regions: { data: Float64Array; start: number; end: number }[];
  private readonly reply: { parts: readonly Run[]; exited: number };
  /** This replica's slot of shared memory: records are merged straight into it. */
  readonly slot: NonNullable<Exchange['slot']>;
  /** Spin budget at the barrier, ns (adaptive: see barrier()); 0 when the threads outnumber the cores. */
  private spinNs: number;
  private readonly maxSpinNs: number;

  constructor(
    ctl: SharedArrayBuffer,
    data: SharedArrayBuffer,
    private readonly index: number,
    private readonly count: number,
    readonly capacity: number,
  ) {
    this.ctl = new Int32Array(ctl);
    this.data = new Float64Array(data);
    this.regions = Array.from({ length: count }, () => ({ data: this.data, start: 0, end: 0 }));
    this.reply = { parts: this.regions, exited: 0 };
    this.maxSpinNs = count <= availableParallelism() ? MAX_SPIN_NS : 0;
    this.spinNs = this.maxSpinNs;
    this.slot = {
      data: this.data,
      start: () => this.slotStart(),
      capacity,
      publish: (len, exited) => this.publish(len, exited),
    };
  }

  swap(records: Run, exited: number): SwapReply {
    const len = records.end - records.start;
    if (len > this.capacity) {
      throw new Error(`${len} words of messages in one quantum, more than the ${this.capacity} the exchange holds: use a shorter --quantum`);
    }
    const data = this.data;
    const src = records.data;
    let at = this.slotStart();
    for (let i = records.start; i < records.end; i++) data[at++] = src[i]!;
    return this.publish(len, exited);
  }

  /** Where this replica writes its records for the coming swap (in `data`), and how many words fit. */
  slotStart(): number {
    return (this.index * 2 + (this.round & 1)) * this.capacity;
  }

  /** The records are in place (`len` words from slotStart()): hand them over and take everyone's. */
  publish(len: number, exited: number): SwapReply {
    const bank = this.round & 1;
    const n = this.count;
    Atomics.store(this.ctl, HEAD + bank * n + this.index, len);
    Atomics.store(this.ctl, HEAD + 2 * n + bank * n + this.index, exited);
    this.barrier();
    let total = 0;
    for (let r = 0; r < n; r++) {
      const part = this.regions[r]!;
      part.start = (r * 2 + bank) * this.capacity;
      part.end = part.start + Atomics.load(this.ctl, HEAD + bank * n + r);
      total += Atomics.load(this.ctl, HEAD + 2 * n + bank * n + r);
    }
    this.round++;
    this.reply.exited = total;
    return this.reply;
  }

  /**
   * Spin briefly, then wait: the last replica to arrive bumps the generation and wakes
   * the sleepers. The spin is bounded in time and adapts (as glibc's adaptive mutexes
   * and the kernel's optimistic spinning do): a wait that ended while spinning keeps the
   * budget near twice what it took; a wait that had to sleep halves it, so that a
   * replica whose peer is descheduled (more runnable threads than cores) stops burning
   * the core the peer needs. With more replicas than cores it never spins.
   */
  private barrier(): void {
    const c = this.ctl;
    const gen = Atomics.load(c, GENERATION);
    if (Atomics.load(c, ABORT) !== 0) throw new ExchangeAborted();
    if (Atomics.add(c, ARRIVED, 1) === this.count - 1) {
      Atomics.store(c, ARRIVED, 0);
      Atomics.add(c, GENERATION, 1);
      if (Atomics.load(c, SLEEPERS) > 0) Atomics.notify(c, GENERATION);
      return;
    }
    const budget = this.spinNs;
    if (budget > 0) {
      const t0 = performance.now();
      const until = t0 + budget / 1e6;
      // The clock is read once per SPIN_CHECK loads (a load is a few ns, a clock read tens).
      for (let spun = 0; Atomics.load(c, GENERATION) === gen; ) {
        if (++spun % SPIN_CHECK === 0 && performance.now() > until) break;
      }
      if (Atomics.load(c, GENERATION) !== gen) {
        const took = (performance.now() - t0) * 1e6;
        this.spinNs = Math.min(this.maxSpinNs, Math.max(MIN_SPIN_NS, budget + (2 * took - budget) / 8));
        if (Atomics.load(c, ABORT) !== 0) throw new ExchangeAborted();
        return;
      }
      this.spinNs = Math.max(MIN_SPIN_NS, budget / 2);
    }
    Atomics.add(c, SLEEPERS, 1);
    while (Atomics.load(c, GENERATION) === gen) Atomics.wait(c, GENERATION, gen, 50);
    Atomics.sub(c, SLEEPERS, 1);
    if (Atomics.load(c, ABORT) !== 0) throw new ExchangeAborted();
  }
}
