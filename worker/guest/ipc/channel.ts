/**
 * What pipes and unix stream sockets share: identity, wait queues, the kernel object a
 * call touches, the bytes queued, and the bookkeeping of a multi-vCPU guest. Their
 * buffers are their own (pipe.ts, unix.ts).
 *
 * Wait queues are per vCPU: where each vCPU's readers sleep (pipe->wait, or the receiving
 * socket's sk_sleep) and its writers (the same queue for a pipe, the sending socket's
 * sk_sleep for a socket). A task sleeps on its own vCPU's queue; a wake-up from another
 * vCPU reaches it at the quantum's end (one vCPU: one queue each, as in Linux).
 *
 * With several vCPUs each vCPU works within a quantum on its own copy of a channel (a
 * view: the channel as it was at the quantum's start, plus its own operations), and its
 * operations are records replayed onto the merged channel at the quantum's end (ipc.ts).
 */
import type { Task } from '../task.js';
import { cpumaskAssign, cpumaskNew } from '../../smp/cpumask.js';
import { WaitQueue, type SleeperMask } from './wait.js';

export const CH_PIPE = 0;
export const CH_UNIX = 1;

/** The masks of a channel on one vCPU, which keeps none (never written). */
const NO_MASK = new Int32Array(0);

/**
 * One direction's queues, by vCPU: the first vCPU to use it in fields of its own (on one
 * vCPU the only one; the look-up at every read and write a compare), any other in a map
 * made when a second vCPU comes. A channel's views share them with the channel.
 */
class CpuQueues {
  firstCpu = -1;
  first: WaitQueue<Task> | null = null;
  private more: Map<number, WaitQueue<Task>> | null = null;

  constructor(
    private readonly owner: SleeperMask | null,
    private readonly reads: boolean,
  ) {}

  /** vCPU `cpu`'s queue, made on first use. */
  at(cpu: number): WaitQueue<Task> {
    if (this.firstCpu === cpu) return this.first!;
    if (this.first === null) {
      this.firstCpu = cpu;
      return (this.first = new WaitQueue<Task>(this.owner, cpu, this.reads));
    }
    const more = (this.more ??= new Map<number, WaitQueue<Task>>());
    let q = more.get(cpu);
    if (q === undefined) more.set(cpu, (q = new WaitQueue<Task>(this.owner, cpu, this.reads)));
    return q;
  }
}

export abstract class ChannelBase implements SleeperMask {
  readonly name: string;
  /** Index in the kernel's channel table (what records name it by). */
  id = -1;
  /** Kernel object: pipe_inode_info, or the receiving unix_sock. */
  objVpn = 0;
  /** Bytes queued. */
  bytes = 0;
  /** Each vCPU's queues, made on first use (a channel is used by few of a big VM's vCPUs). */
  private readonly readWaits: CpuQueues;
  private readonly writeWaits: CpuQueues;
  /** Keep the masks of vCPUs with sleepers (several vCPUs only: one has no quantum's end to wake at). */
  private readonly sleepMasks: boolean;

  // --- multi-vCPU bookkeeping (ipc.ts) ------------------------------------------------
  /** Per-vCPU views: what each vCPU sees within a quantum (made on first use, by vCPU id). */
  views: Map<number, this> | null = null;
  /** Of a view: the quantum it was last copied in. */
  viewEpoch = -1;
  /** The vCPU of the last operation merged in (-1: none yet): its cache holds the channel's lines. */
  lastCpu = -1;
  /** Of a view: the quantum in which its vCPU last paid for pulling the channel's lines over. */
  linesPaidEpoch = -1;
  /** Quantum of the last operation merged in, and which vCPUs sent / received in it (first one, and whether there were others). */
  opEpoch = -1;
  sendSrc = -1;
  sendMulti = false;
  recvSrc = -1;
  recvMulti = false;
  /** vCPUs with tasks asleep here (cpumasks, smp/cpumask.ts): to read (for a pipe: either way) and to write. */
  readonly readers: Int32Array;
  readonly writers: Int32Array;

  /**
   * @param oneQueue readers and writers sleep on one queue (pipe->wait)
   * @param shareWith the merged channel, for a view of it
   */
  constructor(name: string, vcpus: number, oneQueue: boolean, shareWith?: ChannelBase) {
    this.name = name;
    this.sleepMasks = shareWith ? shareWith.sleepMasks : vcpus > 1;
    if (shareWith) {
      this.id = shareWith.id;
      this.objVpn = shareWith.objVpn;
      this.readWaits = shareWith.readWaits;
      this.writeWaits = shareWith.writeWaits;
      this.readers = shareWith.readers;
      this.writers = shareWith.writers;
    } else {
      this.readWaits = new CpuQueues(this.sleepMasks ? this : null, true);
      this.writeWaits = oneQueue ? this.readWaits : new CpuQueues(this.sleepMasks ? this : null, false);
      this.readers = this.sleepMasks ? cpumaskNew(vcpus) : NO_MASK;
      this.writers = this.sleepMasks ? cpumaskNew(vcpus) : NO_MASK;
    }
  }

  readWaitAt(cpu: number): WaitQueue<Task> {
    const w = this.readWaits;
    return w.firstCpu === cpu ? w.first! : w.at(cpu);
  }

  writeWaitAt(cpu: number): WaitQueue<Task> {
    const w = this.writeWaits;
    return w.firstCpu === cpu ? w.first! : w.at(cpu);
  }

  noteSleepers(cpu: number, reads: boolean, any: boolean): void {
    cpumaskAssign(reads ? this.readers : this.writers, cpu, any);
  }

  /** vCPU `cpu`'s view of this channel in quantum `epoch` (made on first use, refreshed once a quantum). */
  viewFor(cpu: number, epoch: number): this {
    let views = this.views;
    if (views === null) views = this.views = new Map();
    let vw = views.get(cpu);
    if (vw === undefined) views.set(cpu, (vw = this.newView()));
    if (vw.viewEpoch !== epoch) {
      vw.copyStateFrom(this);
      vw.viewEpoch = epoch;
    }
    return vw;
  }

  /** A per-vCPU copy of this channel: its own buffer state, the same identity and wait queues. */
  abstract newView(): this;
  /** Take the merged channel's buffer state (views are refreshed at each quantum). */
  abstract copyStateFrom(src: this): void;
}
