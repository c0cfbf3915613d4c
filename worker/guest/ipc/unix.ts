/**
 * Unix stream sockets (net/unix/af_unix.c, 2.6.20): each write is one skb queued on the
 * peer; its truesize is charged to the sending socket's sk_wmem_alloc; a writer sleeps
 * while sk_wmem_alloc >= sk_sndbuf (sock_alloc_send_skb -> sock_wait_for_wmem), and is
 * woken when the reader frees enough that unix_writable() holds (wmem_alloc * 4 <=
 * sndbuf: unix_write_space). The reader sleeps on the receiving socket's sk_sleep
 * (sk_wait_data) and is woken by sock_def_readable (wake_up_interruptible), writers on
 * the sending socket's. One Channel is one direction of a socketpair, writer to reader.
 */
import type { Costs } from '../../../shared/costs.js';
import type { RecordBus } from '../../smp/bus.js';
import { emitUnixRecv } from '../../smp/records/unix-recv.js';
import { emitUnixSend } from '../../smp/records/unix-send.js';
import type { GuestCpu } from '../cpu.js';
import { KTEXT } from '../layout.js';
import type { Scheduler } from '../sched/core.js';
import type { Task } from '../task.js';
import { ChannelBase, CH_UNIX } from './channel.js';
import type { SkbSlab } from './skb.js';

/** Sizes of a unix stream socket's buffers. */
export interface UnixSockParams {
  /** sk_sndbuf of the sending socket (sysctl_wmem_default). */
  readonly sndbuf: number;
  /** skb->truesize of one message: SKB_DATA_ALIGN(len) + sizeof(struct sk_buff). */
  readonly truesize: number;
}

export class UnixStream extends ChannelBase {
  readonly kind = CH_UNIX;
  readonly sndbuf: number;
  readonly truesize: number;
  /** sk_wmem_alloc of the sending socket. */
  wmemAlloc = 0;
  /** The sending unix_sock. */
  peerVpn = 0;
  /** Queued skbs, as slots of the skb slab, FIFO ring (grows if writers on several vCPUs overfill it). */
  private skbRing: Int32Array;
  private skbHead = 0;
  private ringCount = 0;
  /**
   * A view reads the merged channel's queue in place (it does not change within a
   * quantum): `baseCount` skbs were queued there when the view was refreshed, the view
   * has consumed `baseTaken` of them; its own sends go to its own ring after them.
   */
  private base: UnixStream | null = null;
  private baseCount = 0;
  private baseTaken = 0;

  constructor(name: string, unix: UnixSockParams, vcpus: number, shareWith?: UnixStream) {
    super(name, vcpus, false, shareWith);
    this.sndbuf = unix.sndbuf;
    this.truesize = unix.truesize;
    // A ring starts small and grows with the skbs queued (a view's holds only its own
    // sends of one quantum; most of a big VM's sockets never hold more than a few).
    this.skbRing = new Int32Array(8);
    if (shareWith) this.peerVpn = shareWith.peerVpn;
  }

  newView(): this {
    return new UnixStream(this.name, { sndbuf: this.sndbuf, truesize: this.truesize }, 1, this) as this;
  }

  copyStateFrom(src: this): void {
    this.bytes = src.bytes;
    this.wmemAlloc = src.wmemAlloc;
    this.base = src;
    this.baseCount = src.ringCount;
    this.baseTaken = 0;
    this.skbHead = 0;
    this.ringCount = 0;
  }

  /** sock_alloc_send_skb would sleep: the sending socket's write allocation is at its limit. */
  get sendBlocked(): boolean {
    return this.wmemAlloc >= this.sndbuf;
  }

  /** unix_writable(): wmem_alloc * 4 <= sndbuf. */
  get writable(): boolean {
    return this.wmemAlloc * 4 <= this.sndbuf;
  }

  /** skbs queued. */
  get skbCount(): number {
    return this.ringCount + this.baseCount - this.baseTaken;
  }

  queueSkb(slot: number, len: number): void {
    if (this.ringCount === this.skbRing.length) {
      const ring = new Int32Array(this.skbRing.length * 2);
      for (let i = 0; i < this.ringCount; i++) ring[i] = this.skbRing[(this.skbHead + i) % this.skbRing.length]!;
      this.skbRing = ring;
      this.skbHead = 0;
    }
    this.skbRing[(this.skbHead + this.ringCount) % this.skbRing.length] = slot;
    this.ringCount++;
    this.wmemAlloc += this.truesize;
    this.bytes += len;
  }

  /** Dequeue the oldest skb; returns its slab slot. */
  dequeueSkb(len: number): number {
    let slot: number;
    if (this.baseTaken < this.baseCount) {
      const b = this.base!;
      slot = b.skbRing[(b.skbHead + this.baseTaken++) % b.skbRing.length]!;
    } else {
      slot = this.skbRing[this.skbHead]!;
      this.skbHead = (this.skbHead + 1) % this.skbRing.length;
      this.ringCount--;
    }
    this.wmemAlloc -= this.truesize;
    this.bytes -= len;
    return slot;
  }

  /** Remove the skb in `slot` (consumed by a reader on another vCPU); false if it is not queued. */
  removeSkb(slot: number, len: number): boolean {
    const ring = this.skbRing;
    const n = this.ringCount;
    for (let i = 0; i < n; i++) {
      if (ring[(this.skbHead + i) % ring.length] !== slot) continue;
      for (let j = i; j > 0; j--) ring[(this.skbHead + j) % ring.length] = ring[(this.skbHead + j - 1) % ring.length]!;
      this.skbHead = (this.skbHead + 1) % ring.length;
      this.ringCount--;
      this.wmemAlloc -= this.truesize;
      this.bytes -= len;
      return true;
    }
    return false;
  }
}

/** unix_stream_sendmsg and unix_stream_recvmsg. */
export class UnixStreamOps {
  /** With several vCPUs: the records that connect them. */
  bus: RecordBus | null = null;

  constructor(
    private readonly c: Costs,
    private readonly sched: Scheduler,
    readonly slab: SkbSlab,
  ) {}

  /** unix_stream_sendmsg: one skb per write, charged to the sender's wmem; sk_data_ready wakes the reader. */
  send(cpu: GuestCpu, t: Task, ch: UnixStream, len: number): boolean {
    cpu.work(this.c.unixSend);
    cpu.touch(KTEXT.unixA);
    cpu.touch(KTEXT.sock);
    cpu.touch(KTEXT.skb);
    cpu.touch(KTEXT.slab);
    cpu.touch(ch.peerVpn);
    if (ch.sendBlocked) {
      this.sched.sleepOn(t, ch.writeWaitAt(cpu.id)); // sock_wait_for_wmem
      return false;
    }
    const slab = this.slab;
    const slot = slab.alloc(cpu.id);
    const head = slab.headVpn(slot);
    const data = slab.dataVpn(slot);
    cpu.touch(head);
    cpu.touch(data);
    ch.queueSkb(slot, len);
    cpu.touch(ch.objVpn);
    cpu.touch(KTEXT.unixB);
    cpu.stat.messages++;
    if (this.bus !== null) emitUnixSend(this.bus, cpu.vcpu, ch.id, len, slot, head, data);
    this.sched.wakeUpAll(cpu, ch.readWaitAt(cpu.id), false); // sock_def_readable: wake_up_interruptible
    return true;
  }

  /** unix_stream_recvmsg of one skb; sock_wfree wakes writers once unix_writable(). */
  recv(cpu: GuestCpu, t: Task, ch: UnixStream, len: number): boolean {
    cpu.work(this.c.unixRecv);
    cpu.touch(KTEXT.unixA);
    cpu.touch(KTEXT.sock);
    cpu.touch(KTEXT.skb);
    cpu.touch(ch.objVpn);
    if (ch.skbCount === 0) {
      this.sched.sleepOn(t, ch.readWaitAt(cpu.id)); // sk_wait_data
      return false;
    }
    const slab = this.slab;
    const slot = ch.dequeueSkb(len);
    cpu.touch(slab.headVpn(slot));
    cpu.touch(slab.dataVpn(slot));
    cpu.touch(KTEXT.slab);
    const bus = this.bus;
    if (bus !== null) emitUnixRecv(bus, cpu.vcpu, ch.id, len, slot);
    // kfree_skb: back to this vCPU's cache if it is one of its own objects; another
    // vCPU's object goes back to that vCPU when it merges this receive.
    if (bus === null || slab.ownerOf(slot) === cpu.id) slab.free(slot);
    cpu.touch(ch.peerVpn);
    const ww = ch.writeWaitAt(cpu.id);
    if (ch.writable && ww.count > 0) {
      cpu.touch(KTEXT.unixB);
      this.sched.wakeUpAll(cpu, ww, false); // unix_write_space
    }
    return true;
  }
}
