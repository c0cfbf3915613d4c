/**
 * What joins the vCPUs of a multi-vCPU VM when they run apart, a quantum at a time
 * (conservative synchronisation in fixed quanta). Within a quantum a vCPU touches only
 * what is its own; whatever it does that another vCPU must see is a timestamped record
 * emitted here. At the quantum's end every replica of the VM merges all records in
 * (time, source vCPU, seq) order: the same records, in the same order, everywhere. This
 * is the only way vCPUs affect each other, whether they run in one worker thread or in
 * several, so the result does not depend on which vCPUs share a thread.
 *
 * The bus knows no record's meaning. Each record type is a module of records/ (its
 * number, an emit and a read), and the module that owns the state a record changes
 * registers its handler here: channels (guest/ipc), wake-ups and exits (guest/sched),
 * the load balancer, shadow-MMU coherence (hypervisor/kvm/shadow). A replica's bus holds
 * the records of the vCPUs it runs.
 */
import { cpumaskAssign, cpumaskNew } from './cpumask.js';
import { HEADER, Inbox, MsgBuf, type Run } from './msgbuf.js';

/** Who emits a record: a vCPU, at its clock. */
export interface RecordSource {
  readonly id: number;
  readonly clock: number;
}

/** A record's handler: its payload at d[at...], the vCPU that emitted it, and when. */
export type RecordHandler = (d: Float64Array, at: number, src: number, time: number) => void;

export class RecordBus {
  /** Quanta merged so far (per-quantum copies made in an earlier quantum are stale). */
  epoch = 0;
  /** The buffer the last emit() wrote its header to: the payload goes at the offset it returned. */
  d: Float64Array = new Float64Array(0);
  /** 1 for the vCPUs this replica runs. */
  readonly localMask: Uint8Array;
  /** The local vCPUs as a cpumask. */
  readonly localCpus: Int32Array;
  localIds: readonly number[] = [];
  /** Records of each local vCPU in the current quantum (each in delivery order). */
  /** Each local vCPU's records of this quantum (none for another replica's vCPUs). */
  private readonly bufs: (MsgBuf | undefined)[] = [];
  private localBufs: MsgBuf[] = [];
  private readonly seq: Float64Array;
  private readonly out = new MsgBuf();
  private readonly merger = new Inbox();
  private readonly handlers: (RecordHandler | undefined)[] = [];
  private readonly firstPass: (RecordHandler | undefined)[] = [];
  private readonly afterHooks: (() => void)[] = [];
  private readonly endHooks: ((cpu: number) => void)[] = [];
  private readonly dropHooks: ((cpu: number) => void)[] = [];

  constructor(vcpus: number, local: readonly number[]) {
    this.localMask = new Uint8Array(vcpus);
    this.localCpus = cpumaskNew(vcpus);
    this.seq = new Float64Array(vcpus);
    this.setLocal(local);
  }

  /**
   * Run (and hold the records of) the vCPUs `local`; every owner of per-vCPU state lets go
   * of the other vCPUs' (onDropVcpu), which the boot built in every replica.
   */
  setLocal(local: readonly number[]): void {
    const mask = this.localMask;
    mask.fill(0);
    this.localCpus.fill(0);
    for (const id of local) {
      mask[id] = 1;
      cpumaskAssign(this.localCpus, id, true);
    }
    this.localIds = Array.from({ length: mask.length }, (_, i) => i).filter((i) => mask[i] === 1);
    for (let id = 0; id < mask.length; id++) {
      if (mask[id] === 1) this.bufs[id] ??= new MsgBuf(1 << 10);
      else this.bufs[id] = undefined; // its records are the replica's that runs it
    }
    this.localBufs = this.localIds.map((id) => this.bufs[id]!);
    for (let id = 0; id < mask.length; id++) if (mask[id] === 0) for (const h of this.dropHooks) h(id);
  }

  isLocal(cpu: number): boolean {
    return this.localMask[cpu] === 1;
  }

  // --- registration (when the VM is assembled) ------------------------------------

  /** Records of `type` are handled by `h` (one handler per type). */
  on(type: number, h: RecordHandler): void {
    if (this.handlers[type] !== undefined) throw new Error(`record type ${type} has two handlers`);
    this.handlers[type] = h;
  }

  /** Records of `type` are also handled in a pass before all others (tasks in flight arrive first). */
  onFirstPass(type: number, h: RecordHandler): void {
    this.firstPass[type] = h;
  }

  /** Run after every merge (in registration order). */
  afterDeliver(hook: () => void): void {
    this.afterHooks.push(hook);
  }

  /** Run for each local vCPU when it reaches the quantum's end, before its records are handed over (in registration order). */
  atQuantumEnd(hook: (cpu: number) => void): void {
    this.endHooks.push(hook);
  }

  /**
   * Run for each vCPU this replica does not run (setLocal, once the VM is assembled): the
   * owner of per-vCPU state lets go of that vCPU's, which no handler here reads again.
   */
  onDropVcpu(hook: (cpu: number) => void): void {
    this.dropHooks.push(hook);
  }

  // --- within a quantum ---------------------------------------------------------------

  /** Start a record of `n` payload words from `src` (at its clock); returns where its payload goes in `d`. */
  emit(src: RecordSource, type: number, n: number): number {
    const buf = this.bufs[src.id]!;
    const at = buf.begin(type, n, src.clock, src.id, this.seq[src.id]!++);
    this.d = buf.data;
    return at;
  }

  // --- at the quantum's end -----------------------------------------------------------

  /** The local vCPUs have reached the quantum's end: let the owners of state emit what the others must learn. */
  endQuantum(): void {
    for (const id of this.localIds) for (const h of this.endHooks) h(id);
  }

  /** The local vCPUs' records of the quantum, merged into delivery order. */
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
   * The local vCPUs' records of the quantum, merged into delivery order, written into
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

  /** The local vCPUs' records of the quantum, one run per vCPU (each in delivery order). */
  parts(): readonly Run[] {
    return this.localBufs;
  }

  /** The quantum's records have been handed over. */
  clearOut(): void {
    for (const b of this.localBufs) b.clear();
  }

  /** Merge every replica's records of the quantum, in delivery order. */
  deliver(inbox: Inbox): void {
    const d = inbox.data;
    const order = inbox.order;
    const n = inbox.count;
    for (let i = 0; i < n; i++) {
      const o = order[i]!;
      const h = this.firstPass[d[o]! | 0];
      if (h !== undefined) h(d, o + HEADER, d[o + 3]! | 0, d[o + 2]!);
    }
    for (let i = 0; i < n; i++) {
      const o = order[i]!;
      // Small integers read as such (| 0), so that passing them on allocates nothing.
      const type = d[o]! | 0;
      const h = this.handlers[type];
      if (h === undefined) throw new Error(`unknown message type ${type}`);
      h(d, o + HEADER, d[o + 3]! | 0, d[o + 2]!);
    }
    for (const hook of this.afterHooks) hook();
    this.epoch++;
  }
}
