/**
 * Guest pipes and unix stream sockets: finite buffers and wait queues, the two things
 * from which blocking, and so context switches, emerge.
 *
 * Pipe (fs/pipe.c, 2.6.20): PIPE_BUFFERS (16) page buffers in a ring; a small write is
 * merged into the last buffer when it fits in its page, else takes a new buffer; a
 * writer sleeps when all 16 are in use. Readers and writers sleep on one wait queue
 * (pipe->wait).
 *
 * Unix stream socket (net/unix/af_unix.c): each write is one skb queued on the peer;
 * its truesize is charged to the sending socket's sk_wmem_alloc; a writer sleeps while
 * sk_wmem_alloc >= sk_sndbuf, and is woken when the reader frees enough that
 * unix_writable() holds (wmem_alloc * 4 <= sndbuf). The reader sleeps on the receiving
 * socket's sk_sleep, writers on the sending socket's.
 */
import type { Task } from './task.js';

export const CH_PIPE = 0;
export const CH_UNIX = 1;

export const PIPE_BUFFERS = 16;
export const PIPE_BUF_SIZE = 4096;

/** A wait queue (wait_queue_head_t). Sleepers are added at the head, so wake-up order is last-in first. */
export class WaitQueue {
  /** Sleepers are slots 0..count-1 (the array keeps its capacity across wake-ups). */
  private readonly list: Task[] = [];
  count = 0;
  /** A channel's queue for one vCPU: the channel keeps a mask of the vCPUs with sleepers. */
  constructor(
    private readonly ch: Channel | null = null,
    private readonly cpu = 0,
    private readonly reads = true,
  ) {}
  add(t: Task): void {
    if (this.count === 0 && this.ch !== null) this.ch.noteSleepers(this.cpu, this.reads, true);
    this.list[this.count++] = t;
  }
  at(i: number): Task {
    return this.list[i]!;
  }
  clear(): void {
    if (this.count > 0 && this.ch !== null) this.ch.noteSleepers(this.cpu, this.reads, false);
    this.count = 0;
  }
  remove(t: Task): void {
    const list = this.list;
    for (let i = 0; i < this.count; i++) {
      if (list[i] !== t) continue;
      for (let j = i + 1; j < this.count; j++) list[j - 1] = list[j]!;
      if (--this.count === 0 && this.ch !== null) this.ch.noteSleepers(this.cpu, this.reads, false);
      return;
    }
  }
}

/** Sizes of a unix stream socket's buffers. */
export interface UnixSockParams {
  /** sk_sndbuf of the sending socket (sysctl_wmem_default). */
  readonly sndbuf: number;
  /** skb->truesize of one message: SKB_DATA_ALIGN(len) + sizeof(struct sk_buff). */
  readonly truesize: number;
}

export class Channel {
  readonly kind: number;
  readonly name: string;
  /** Index in the kernel's channel table (what messages between vCPUs name it by). */
  id = -1;
  /**
   * Wait queues per vCPU: where each vCPU's readers sleep (pipe->wait, or the receiving
   * socket's sk_sleep) and its writers (the same queue for a pipe, the sending socket's
   * sk_sleep for a socket). A task sleeps on its own vCPU's queue; a wake-up from
   * another vCPU reaches it at the quantum's end (one vCPU: one queue each, as in Linux).
   */
  private readonly readWaits: WaitQueue[];
  private readonly writeWaits: WaitQueue[];
  /** The merged channel (itself, or the one this view copies). */
  private readonly auth: Channel;
  /** Keep the masks of vCPUs with sleepers (several vCPUs only: one has no quantum's end to wake at). */
  private readonly sleepMasks: boolean;

  // --- pipe -------------------------------------------------------------------
  /**
   * Bytes held by each page buffer (ring from curbuf). A writer sleeps when PIPE_BUFFERS
   * are in use; the ring has room for more because writers on other vCPUs may each have
   * filled the pipe as they saw it within one quantum.
   */
  private readonly bufLen: Int32Array;
  curbuf = 0;
  nrbufs = 0;
  /** Page (VPN) of each pipe buffer, fixed frames recycled in ring order. */
  readonly bufVpn: Int32Array;

  // --- unix socket ------------------------------------------------------------
  readonly sndbuf: number;
  readonly truesize: number;
  /** sk_wmem_alloc of the sending socket. */
  wmemAlloc = 0;
  /** Queued skbs, as slots of the skb slab, FIFO ring (grows if writers on several vCPUs overfill it). */
  private skbRing: Int32Array;
  private skbHead = 0;
  private ringCount = 0;
  /**
   * A view reads the merged channel's queue in place (it does not change within a
   * quantum): `baseCount` skbs were queued there when the view was refreshed, the view
   * has consumed `baseTaken` of them; its own sends go to its own ring after them.
   */
  private base: Channel | null = null;
  private baseCount = 0;
  private baseTaken = 0;

  /** Kernel objects: pipe_inode_info / receiving unix_sock, and the sending unix_sock. */
  objVpn = 0;
  peerVpn = 0;

  /** Bytes queued. */
  bytes = 0;

  // --- multi-vCPU bookkeeping (see guest/smp.ts) -------------------------------------
  /** Per-vCPU copies: what each vCPU sees within a quantum, and the quantum each was copied in. */
  views: (Channel | undefined)[] | null = null;
  viewEpoch: Int32Array | null = null;
  /** Quantum of the last operation merged in, and which vCPUs sent / received in it (first one, and whether there were others). */
  opEpoch = -1;
  sendSrc = -1;
  sendMulti = false;
  recvSrc = -1;
  recvMulti = false;

  constructor(kind: number, name: string, unix?: UnixSockParams, vcpus = 1, shareWith?: Channel) {
    this.kind = kind;
    this.name = name;
    this.sndbuf = unix?.sndbuf ?? 0;
    this.truesize = unix?.truesize ?? 0;
    this.bufLen = new Int32Array(kind === CH_PIPE ? PIPE_BUFFERS * vcpus : 1);
    // A view's own ring holds only its own sends of one quantum: it starts small and grows.
    this.skbRing = new Int32Array(unix ? (shareWith ? 8 : Math.ceil(unix.sndbuf / unix.truesize) + 2) : 1);
    this.auth = shareWith ?? this;
    this.sleepMasks = shareWith ? shareWith.sleepMasks : vcpus > 1;
    if (shareWith) {
      this.id = shareWith.id;
      this.readWaits = shareWith.readWaits;
      this.writeWaits = shareWith.writeWaits;
      this.bufVpn = shareWith.bufVpn;
      this.objVpn = shareWith.objVpn;
      this.peerVpn = shareWith.peerVpn;
    } else {
      this.readWaits = [];
      this.writeWaits = kind === CH_PIPE ? this.readWaits : [];
      this.bufVpn = new Int32Array(PIPE_BUFFERS);
    }
  }

  readWaitAt(cpu: number): WaitQueue {
    return (this.readWaits[cpu] ??= new WaitQueue(this.sleepMasks ? this.auth : null, cpu, true));
  }

  writeWaitAt(cpu: number): WaitQueue {
    if (this.kind === CH_PIPE) return this.readWaitAt(cpu);
    return (this.writeWaits[cpu] ??= new WaitQueue(this.sleepMasks ? this.auth : null, cpu, false));
  }

  /**
   * vCPUs with tasks asleep here, as bit masks (vCPUs 0-31 in lo, 32-63 in hi): to read
   * (for a pipe: either way) and to write.
   */
  readersLo = 0;
  readersHi = 0;
  writersLo = 0;
  writersHi = 0;

  noteSleepers(cpu: number, reads: boolean, any: boolean): void {
    const bit = 1 << (cpu & 31);
    if (reads) {
      if (cpu < 32) this.readersLo = any ? this.readersLo | bit : this.readersLo & ~bit;
      else this.readersHi = any ? this.readersHi | bit : this.readersHi & ~bit;
    } else if (cpu < 32) this.writersLo = any ? this.writersLo | bit : this.writersLo & ~bit;
    else this.writersHi = any ? this.writersHi | bit : this.writersHi & ~bit;
  }

  /** A per-vCPU copy of this channel: its own buffer state, the same identity and wait queues. */
  newView(): Channel {
    const unix = this.kind === CH_UNIX ? { sndbuf: this.sndbuf, truesize: this.truesize } : undefined;
    return new Channel(this.kind, this.name, unix, this.bufLen.length / PIPE_BUFFERS || 1, this);
  }

  /** Take `src`'s buffer state (views are refreshed from the merged channel at each quantum). */
  copyStateFrom(src: Channel): void {
    this.bytes = src.bytes;
    if (this.kind === CH_PIPE) {
      // Only the buffers in use matter.
      const ring = this.bufLen.length;
      this.curbuf = src.curbuf;
      this.nrbufs = src.nrbufs;
      for (let i = 0; i < src.nrbufs; i++) {
        const b = (src.curbuf + i) % ring;
        this.bufLen[b] = src.bufLen[b]!;
      }
      return;
    }
    this.wmemAlloc = src.wmemAlloc;
    this.base = src;
    this.baseCount = src.ringCount;
    this.baseTaken = 0;
    this.skbHead = 0;
    this.ringCount = 0;
  }

  // --- pipe buffer ring ---------------------------------------------------------

  /**
   * pipe_write of `len` bytes: merged into the last buffer when it fits in its page,
   * else into a new buffer. Returns the buffer used, or -1 when all PIPE_BUFFERS are in
   * use (the writer must sleep). `force`: a write another vCPU already made, merged in.
   */
  pipeWrite(len: number, force = false): number {
    const ring = this.bufLen.length;
    let b = -1;
    if (this.nrbufs > 0) {
      const last = (this.curbuf + this.nrbufs - 1) % ring;
      if (this.bufLen[last]! + len <= PIPE_BUF_SIZE) b = last;
    }
    if (b < 0) {
      if (this.nrbufs >= (force ? ring : PIPE_BUFFERS)) return -1;
      b = (this.curbuf + this.nrbufs) % ring;
      this.bufLen[b] = 0;
      this.nrbufs++;
    }
    this.bufLen[b]! += len;
    this.bytes += len;
    return b % PIPE_BUFFERS;
  }

  /** pipe_read of up to `len` bytes from the first buffer(s). Returns bytes read and whether a buffer was released. */
  pipeRead(len: number): { read: number; released: boolean } {
    const ring = this.bufLen.length;
    let read = 0;
    let released = false;
    while (read < len && this.nrbufs > 0) {
      const b = this.curbuf;
      const take = Math.min(len - read, this.bufLen[b]!);
      this.bufLen[b]! -= take;
      read += take;
      if (this.bufLen[b] === 0) {
        this.curbuf = (b + 1) % ring;
        this.nrbufs--;
        released = true;
      }
    }
    this.bytes -= read;
    return PIPE_READ_RESULT.set(read, released);
  }

  /** The page buffer reads start from. */
  get firstBufVpn(): number {
    return this.bufVpn[this.curbuf % PIPE_BUFFERS]!;
  }

  // --- unix socket queue --------------------------------------------------------

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

/** Reused result object of Channel.pipeRead (no allocation per read). */
const PIPE_READ_RESULT = {
  read: 0,
  released: false,
  set(read: number, released: boolean) {
    this.read = read;
    this.released = released;
    return this;
  },
};

/**
 * The skbuff slab: objects handed out LIFO (the most recently freed first, as the
 * slab's per-CPU array cache does), each living on a slab page. Which pages a message
 * touches therefore depends on how many messages are in flight. Slab pages are guest
 * frames, taken from the page allocator the first time they are needed.
 *
 * Each vCPU has its own range of objects and pages (a per-CPU cache that never needs
 * the others); an object freed on another vCPU goes back to its own vCPU's list when
 * that vCPU learns of the free, at the quantum's end.
 */
export class SkbSlab {
  private readonly freeSlots: Int32Array[];
  private readonly nFree: Int32Array;
  private readonly headPage: Int32Array;
  private readonly dataPage: Int32Array;
  constructor(
    readonly capacity: number,
    readonly cpus: number,
    readonly headsPerPage: number,
    readonly dataPerPage: number,
    private readonly newPage: (cpu: number) => number,
  ) {
    if (capacity % headsPerPage !== 0 || capacity % dataPerPage !== 0) throw new Error('skb slab capacity must fill whole pages');
    this.freeSlots = [];
    this.nFree = new Int32Array(cpus);
    this.headPage = new Int32Array((capacity / headsPerPage) * cpus).fill(-1);
    this.dataPage = new Int32Array((capacity / dataPerPage) * cpus).fill(-1);
  }
  private list(cpu: number): Int32Array {
    let l = this.freeSlots[cpu];
    if (l === undefined) {
      l = this.freeSlots[cpu] = new Int32Array(this.capacity);
      const base = cpu * this.capacity;
      for (let i = 0; i < this.capacity; i++) l[i] = base + this.capacity - 1 - i;
      this.nFree[cpu] = this.capacity;
    }
    return l;
  }
  /** The vCPU whose cache an object belongs to. */
  ownerOf(slot: number): number {
    return Math.floor(slot / this.capacity);
  }
  alloc(cpu: number): number {
    const l = this.list(cpu);
    if (this.nFree[cpu] === 0) throw new Error('skb slab exhausted');
    return l[--this.nFree[cpu]!]!;
  }
  free(slot: number): void {
    const cpu = this.ownerOf(slot);
    const l = this.list(cpu);
    l[this.nFree[cpu]!++] = slot;
  }
  /** Page (VPN) of the sk_buff head of `slot`. */
  headVpn(slot: number): number {
    const i = Math.floor(slot / this.headsPerPage);
    let p = this.headPage[i]!;
    if (p < 0) p = this.headPage[i] = this.newPage(this.ownerOf(slot));
    return p;
  }
  /** Page (VPN) of the data area of `slot`. */
  dataVpn(slot: number): number {
    const i = Math.floor(slot / this.dataPerPage);
    let p = this.dataPage[i]!;
    if (p < 0) p = this.dataPage[i] = this.newPage(this.ownerOf(slot));
    return p;
  }
  /** Learn the pages of an object another vCPU allocated (from its message). */
  notePages(slot: number, head: number, data: number): void {
    this.headPage[Math.floor(slot / this.headsPerPage)] = head;
    this.dataPage[Math.floor(slot / this.dataPerPage)] = data;
  }
}
