/**
 * What joins the vCPUs of a multi-vCPU guest when they run apart, a quantum at a time
 * (DESIGN "Time": conservative synchronisation in fixed quanta).
 *
 * Within a quantum a vCPU touches only what is its own: its tasks and run queue, its
 * shard of the shadow MMU, its page and skb free lists, and its view of each pipe or
 * socket (the channel as it was when the quantum began, plus its own reads and writes).
 * Everything it does that others must see is a message (smp/bus.ts). At the quantum's
 * end every replica of the VM merges all messages in (time, vCPU, seq) order: channel
 * operations replayed onto the one channel state, wake-ups and child exits finished on
 * the task's vCPU, shadow-MMU coherence applied, tasks moved by the load balancer. A
 * sleeper whose channel another vCPU read or wrote is woken then, by a reschedule IPI.
 *
 * Because a vCPU never sees another within a quantum, the result does not depend on
 * which vCPUs share a worker thread. What it does depend on is the quantum: a wake-up
 * across vCPUs takes effect up to one quantum late, and writers on several vCPUs can
 * each fill a buffer that they all saw with room in it.
 */
import { HEADER, Inbox, MsgBuf, type Run, M_CHILD_EXIT, M_DROP_ROOT, M_LOAD, M_MIGRATE, M_MMPUT, M_PIPE_READ, M_PIPE_WRITE, M_PT_WRITE, M_SHADOWED, M_UNIX_RECV, M_UNIX_SEND, M_WAKE } from '../smp/bus.js';
import { CH_PIPE, type Channel } from './channel.js';
import { TASK_RUNNING, type Task } from './task.js';
import type { Kernel } from './kernel.js';
import type { Vcpu } from '../vcpu.js';

/** The platform's side of the quantum's end (the shadow MMU shards of KVM). */
export interface SmpPlatform {
  publish(v: Vcpu): void;
  applyRemote(type: number, d: Float64Array, at: number, src: number, local: readonly Vcpu[]): void;
}

/**
 * sd->cache_hot_time of 2.6.20's CPU domain (SD_CPU_INIT: 2.5 ms): a task that ran this
 * recently is not pulled, unless balancing has failed more than cache_nice_tries (1) times.
 */
export const CACHE_HOT_NS = 2_500_000;
const CACHE_NICE_TRIES = 1;
/** imbalance_pct of the CPU domain: the busiest must exceed the idlest by 25%. */
const IMBALANCE_PCT = 125;

/** The task state a migration carries (after pid and destination), read and written in this order. */
const MIGRATED: readonly (readonly [(t: Task) => number, (t: Task, x: number) => void])[] = [
  [(t) => (t.inSyscall ? 1 : 0), (t, x) => void (t.inSyscall = x === 1)],
  [(t) => t.staticPrio, (t, x) => void (t.staticPrio = x)],
  [(t) => t.prio, (t, x) => void (t.prio = x)],
  [(t) => t.sleepAvg, (t, x) => void (t.sleepAvg = x)],
  [(t) => t.sleepType, (t, x) => void (t.sleepType = x)],
  [(t) => (t.sleepNonInteractive ? 1 : 0), (t, x) => void (t.sleepNonInteractive = x === 1)],
  [(t) => t.timeSlice, (t, x) => void (t.timeSlice = x)],
  [(t) => t.timestamp, (t, x) => void (t.timestamp = x)],
  [(t) => t.pc, (t, x) => void (t.pc = x)],
  [(t) => t.i, (t, x) => void (t.i = x)],
  [(t) => t.j, (t, x) => void (t.j = x)],
  [(t) => (t.ioDone ? 1 : 0), (t, x) => void (t.ioDone = x === 1)],
  [(t) => t.wakeAt, (t, x) => void (t.wakeAt = x)],
  [(t) => t.zombies, (t, x) => void (t.zombies = x)],
];
const MIGRATE_FIELDS = 2 + MIGRATED.length;

export class GuestSmp {
  /** Quanta completed: a view copied in an earlier quantum is refreshed on first use. */
  epoch = 0;
  /** Messages of each local vCPU in the current quantum (each in delivery order), and of all of them merged. */
  private readonly bufs: MsgBuf[] = [];
  private readonly out = new MsgBuf();
  private readonly merger = new Inbox();
  private readonly localBufs: MsgBuf[];
  /** The buffer the last emit() wrote its header to: the payload goes at the offset it returned. */
  d: Float64Array = new Float64Array(0);
  /** Tasks that exited on this replica's vCPUs (cumulative). */
  exited = 0;
  /** Every vCPU's nr_running at the last quantum's end, tasks arriving by migration counted. */
  readonly loads: Int32Array;
  /** The nr_running each local vCPU last published. */
  private readonly published: Int32Array;
  readonly localMask: Uint8Array;
  readonly localVcpus: readonly Vcpu[];
  private readonly seq: Float64Array;
  private readonly merged: Channel[] = [];
  private readonly picked: Task[] = [];
  private readonly failed: Int32Array;
  private readonly planLoads: Int32Array;
  private arrivedAt = new Int32Array(64);
  private readonly cacheHotCycles: number;
  /** The local vCPUs as bit masks (0-31, 32-63). */
  private localLo = 0;
  private localHi = 0;

  constructor(
    private readonly k: Kernel,
    local: readonly number[],
    private readonly platform: SmpPlatform | null,
    /** Full load balancing every this many quanta (an idle vCPU pulls at every quantum's end). */
    readonly balanceEvery: number,
  ) {
    const n = k.vcpus.length;
    this.loads = new Int32Array(n);
    this.published = new Int32Array(n).fill(-1);
    this.localMask = new Uint8Array(n);
    for (const id of local) {
      this.localMask[id] = 1;
      if (id < 32) this.localLo |= 1 << id;
      else this.localHi |= 1 << (id - 32);
    }
    this.localVcpus = k.vcpus.filter((v) => this.localMask[v.id] === 1);
    for (const v of this.localVcpus) this.bufs[v.id] = new MsgBuf(1 << 10);
    this.localBufs = this.localVcpus.map((v) => this.bufs[v.id]!);
    this.seq = new Float64Array(n);
    this.failed = new Int32Array(n);
    this.planLoads = new Int32Array(n);
    this.cacheHotCycles = (CACHE_HOT_NS * k.c.clockHz) / 1e9;
  }

  /** Start a message from vCPU v (at its clock); returns where its payload goes in `d`. */
  emit(v: Vcpu, type: number, n: number): number {
    const buf = this.bufs[v.id]!;
    const at = buf.begin(type, n, v.clock, v.id, this.seq[v.id]!++);
    this.d = buf.data;
    return at;
  }

  /** The local vCPUs' messages of the quantum, merged into delivery order. */
  collect(): Run {
    const local = this.localBufs;
    if (local.length === 1) return local[0]!;
    const out = this.out;
    let total = 0;
    for (const b of local) total += b.length;
    out.clear();
    out.reserve(total);
    out.length = this.collectInto(out.data, 0, total);
    return out;
  }

  /**
   * The local vCPUs' messages of the quantum, merged into delivery order, written into
   * `d` from `at` (at most `cap` words); returns where they end.
   */
  collectInto(d: Float64Array, at: number, cap: number): number {
    const m = this.merger;
    m.fill(this.parts());
    const src = m.data;
    const limit = at + cap;
    for (let i = 0; i < m.count; i++) {
      const o = m.order[i]!;
      const len = HEADER + src[o + 1]!;
      if (at + len > limit) throw new Error(`more than ${cap} words of messages in one quantum: use a shorter --quantum`);
      for (let j = 0; j < len; j++) d[at + j] = src[o + j]!;
      at += len;
    }
    return at;
  }

  /** The local vCPUs' messages of the quantum, one run per vCPU (each in delivery order). */
  parts(): readonly Run[] {
    return this.localBufs;
  }

  /** The quantum's messages have been handed over. */
  clearOut(): void {
    for (const v of this.localVcpus) this.bufs[v.id]!.clear();
  }

  /** vCPU `cpu`'s view of channel `ch` in this quantum. */
  view(cpu: number, ch: Channel): Channel {
    let views = ch.views;
    if (views === null) {
      views = ch.views = [];
      ch.viewEpoch = new Int32Array(this.k.vcpus.length).fill(-1);
    }
    let vw = views[cpu];
    if (vw === undefined) vw = views[cpu] = ch.newView();
    if (ch.viewEpoch![cpu] !== this.epoch) {
      vw.copyStateFrom(ch);
      ch.viewEpoch![cpu] = this.epoch;
    }
    return vw;
  }

  /** The quantum is over on this replica's vCPUs: publish shard changes and run-queue lengths (when they changed). */
  endQuantum(): void {
    for (const v of this.localVcpus) {
      this.platform?.publish(v);
      const nr = v.rq.nrRunning;
      if (nr === this.published[v.id]) continue;
      this.published[v.id] = nr;
      const at = this.emit(v, M_LOAD, 2);
      this.d[at] = v.id;
      this.d[at + 1] = nr;
    }
  }

  /** Merge every replica's messages of the quantum (the same records, in the same order, everywhere). */
  deliver(inbox: Inbox): void {
    const d = inbox.data;
    const order = inbox.order;
    const n = inbox.count;
    const k = this.k;
    // Tasks in flight arrive first: later messages may be for them.
    let arrivals = 0;
    for (let i = 0; i < n; i++) {
      const o = order[i]!;
      if (d[o] !== M_MIGRATE) continue;
      this.arrive(d, o);
      this.arrivedAt[arrivals++] = d[o + HEADER + 1]! | 0;
    }
    for (let i = 0; i < n; i++) {
      const o = order[i]!;
      // Small integers read as such (| 0), so that passing them on allocates nothing.
      const type = d[o]! | 0;
      const src = d[o + 3]! | 0;
      const at = o + HEADER;
      switch (type) {
        case M_PIPE_WRITE: {
          const ch = k.channels[d[at]! | 0]!;
          ch.pipeWrite(d[at + 1]! | 0, true);
          this.noteOp(ch, src, true);
          break;
        }
        case M_PIPE_READ: {
          const ch = k.channels[d[at]! | 0]!;
          ch.pipeRead(d[at + 1]! | 0);
          this.noteOp(ch, src, false);
          break;
        }
        case M_UNIX_SEND: {
          const ch = k.channels[d[at]! | 0]!;
          const slot = d[at + 2]! | 0;
          k.skbSlab.notePages(slot, d[at + 3]! | 0, d[at + 4]! | 0);
          ch.queueSkb(slot, d[at + 1]! | 0);
          this.noteOp(ch, src, true);
          break;
        }
        case M_UNIX_RECV: {
          const ch = k.channels[d[at]! | 0]!;
          const slot = d[at + 2]! | 0;
          if (ch.removeSkb(slot, d[at + 1]! | 0)) {
            const owner = k.skbSlab.ownerOf(slot);
            if (owner !== src && this.localMask[owner] === 1) k.skbSlab.free(slot);
          }
          this.noteOp(ch, src, false);
          break;
        }
        case M_WAKE: {
          const t = k.tasks[(d[at]! | 0) - 1]!;
          if (this.localMask[t.cpu] === 1) k.tryToWakeUp(k.vcpus[t.cpu]!, t, false, true);
          break;
        }
        case M_CHILD_EXIT: {
          const parent = k.tasks[(d[at]! | 0) - 1]!;
          if (this.localMask[parent.cpu] === 1) k.childExited(k.vcpus[parent.cpu]!, parent, false, true);
          break;
        }
        case M_PT_WRITE:
        case M_SHADOWED:
        case M_DROP_ROOT:
          this.platform?.applyRemote(type, d, at, src, this.localVcpus);
          break;
        case M_LOAD:
          this.loads[d[at]! | 0] = d[at + 1]!;
          break;
        case M_MMPUT: {
          const mm = k.mms[d[at]! | 0]!;
          if (--mm.users === 0) {
            mm.exitCpu = src;
            if (this.localMask[src] === 1) k.lastMmput(k.vcpus[src]!, mm);
          }
          break;
        }
        case M_MIGRATE:
          break; // arrived in the first pass
        default:
          throw new Error(`unknown message type ${type}`);
      }
    }
    // The published lengths were taken before the arrivals.
    for (let i = 0; i < arrivals; i++) this.loads[this.arrivedAt[i]!]!++;
    this.wakeSleepers();
    this.epoch++;
  }

  /** Note a merged channel operation: who sent, who received, in this quantum. */
  private noteOp(ch: Channel, src: number, send: boolean): void {
    if (ch.opEpoch !== this.epoch) {
      ch.opEpoch = this.epoch;
      ch.sendSrc = ch.recvSrc = -1;
      ch.sendMulti = ch.recvMulti = false;
      this.merged.push(ch);
    }
    if (send) {
      if (ch.sendSrc < 0) ch.sendSrc = src;
      else if (ch.sendSrc !== src) ch.sendMulti = true;
    } else if (ch.recvSrc < 0) ch.recvSrc = src;
    else if (ch.recvSrc !== src) ch.recvMulti = true;
  }

  /**
   * The wake-ups another vCPU's operations would have made: readers of a channel another
   * vCPU wrote, writers of a socket another vCPU drained to unix_writable(), and every
   * sleeper of a pipe another vCPU used (pipe->wait is one queue).
   */
  private wakeSleepers(): void {
    const k = this.k;
    const lo = this.localLo;
    const hi = this.localHi;
    for (const ch of this.merged) {
      const pipe = ch.kind === CH_PIPE;
      // Readers (every sleeper of a pipe) on local vCPUs, then writers of a socket.
      for (let pass = 0; pass < 2; pass++) {
        if (pass === 1 && (pipe || !ch.writable)) break;
        const reads = pass === 0;
        const src = reads && !pipe ? ch.sendSrc : pass === 1 ? ch.recvSrc : -1;
        let mLo = (reads ? ch.readersLo : ch.writersLo) & lo;
        let mHi = (reads ? ch.readersHi : ch.writersHi) & hi;
        while (mLo !== 0 || mHi !== 0) {
          let id: number;
          if (mLo !== 0) {
            const bit = mLo & -mLo;
            mLo ^= bit;
            id = 31 - Math.clz32(bit);
          } else {
            const bit = mHi & -mHi;
            mHi ^= bit;
            id = 32 + 31 - Math.clz32(bit);
          }
          let other: boolean;
          if (pipe) {
            other = (ch.sendSrc >= 0 && (ch.sendMulti || ch.sendSrc !== id)) || (ch.recvSrc >= 0 && (ch.recvMulti || ch.recvSrc !== id));
          } else {
            const multi = reads ? ch.sendMulti : ch.recvMulti;
            other = src >= 0 && (multi || src !== id);
          }
          if (!other) continue;
          const w = k.vcpus[id]!;
          k.wakeUpAll(w, reads ? ch.readWaitAt(id) : ch.writeWaitAt(id), false, true);
        }
      }
    }
    this.merged.length = 0;
  }

  /**
   * load_balance at the quantum's end, from the run-queue lengths every vCPU published:
   * an idle vCPU pulls from the busiest at every quantum's end (idle_balance), and every
   * `balanceEvery` quanta (rebalance_tick) the busiest and idlest are evened out while
   * they differ by 2 or more and by more than imbalance_pct. The busy vCPU gives up half
   * the difference, chosen as move_tasks does; they arrive at the next quantum's end.
   */
  balance(quantum: number): void {
    const full = (quantum + 1) % this.balanceEvery === 0;
    const loads = this.planLoads;
    loads.set(this.loads);
    const n = loads.length;
    for (let iter = 0; iter < n; iter++) {
      let b = 0;
      let i = 0;
      for (let c = 1; c < n; c++) {
        if (loads[c]! > loads[b]!) b = c;
        if (loads[c]! < loads[i]!) i = c;
      }
      if (!full && loads[i] !== 0) break;
      const diff = loads[b]! - loads[i]!;
      if (diff < 2 || loads[b]! * 100 <= loads[i]! * IMBALANCE_PCT) break;
      const count = diff >> 1;
      if (this.localMask[b] === 1) this.pushTasks(this.k.vcpus[b]!, i, count);
      loads[b]! -= count;
      loads[i]! += count;
    }
  }

  /** The busy vCPU's half of pull_task: take up to `count` tasks off its run queue and send them to `dest`. */
  private pushTasks(src: Vcpu, dest: number, count: number): void {
    const hotOk = this.failed[src.id]! > CACHE_NICE_TRIES;
    const now = src.clock;
    const hot = this.cacheHotCycles;
    const current = src.current;
    src.rq.migrationCandidates(count, (t) => t !== current && t.migratable && (hotOk || now - t.timestamp > hot), this.picked);
    if (this.picked.length === 0) {
      this.failed[src.id]!++;
      return;
    }
    this.failed[src.id] = 0;
    for (const t of this.picked) {
      src.rq.dequeue(t);
      const at = this.emit(src, M_MIGRATE, MIGRATE_FIELDS);
      const d = this.d;
      d[at] = t.pid;
      d[at + 1] = dest;
      for (let f = 0; f < MIGRATED.length; f++) d[at + 2 + f] = MIGRATED[f]![0](t);
      // In flight until the next quantum's end: whatever happens to it meanwhile (a child's
      // exit, a wake-up) is a message, delivered after it has arrived.
      t.cpu = -1;
    }
    this.picked.length = 0;
  }

  /** A migrated task arrives: every replica learns its new vCPU; the one running that vCPU enqueues it. */
  private arrive(d: Float64Array, o: number): void {
    const at = o + HEADER;
    if (this.arrivedAt.length < this.k.tasks.length) this.arrivedAt = new Int32Array(this.k.tasks.length);
    const t = this.k.tasks[d[at]! - 1]!;
    const dest = d[at + 1]!;
    t.cpu = dest;
    if (this.localMask[dest] !== 1) return;
    const v = this.k.vcpus[dest]!;
    for (let f = 0; f < MIGRATED.length; f++) MIGRATED[f]![1](t, d[at + 2 + f]!);
    // pull_task: the timestamp keeps its distance from the clock of the CPU it left.
    t.timestamp = v.clock - (d[o + 2]! - t.timestamp);
    t.state = TASK_RUNNING;
    v.rq.enqueue(t);
    v.migrations++;
    this.published[dest] = -1; // every replica counted the arrival: publish the true length next time
    if (t.prio < v.current.prio && v.clock < v.ipiAt) v.ipiAt = v.clock;
  }
}
