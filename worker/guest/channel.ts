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
  add(t: Task): void {
    this.list[this.count++] = t;
  }
  at(i: number): Task {
    return this.list[i]!;
  }
  clear(): void {
    this.count = 0;
  }
  remove(t: Task): void {
    const list = this.list;
    for (let i = 0; i < this.count; i++) {
      if (list[i] !== t) continue;
      for (let j = i + 1; j < this.count; j++) list[j - 1] = list[j]!;
      this.count--;
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
  /** Where readers sleep (pipe->wait, or the receiving socket's sk_sleep). */
  readonly readWait: WaitQueue;
  /** Where writers sleep (the same queue for a pipe, the sending socket's sk_sleep for a socket). */
  readonly writeWait: WaitQueue;

  // --- pipe -------------------------------------------------------------------
  /** Bytes held by each of the PIPE_BUFFERS page buffers (ring from curbuf). */
  readonly bufLen = new Int32Array(PIPE_BUFFERS);
  curbuf = 0;
  nrbufs = 0;
  /** Page (VPN) of each pipe buffer, fixed frames recycled in ring order. */
  readonly bufVpn = new Int32Array(PIPE_BUFFERS);

  // --- unix socket ------------------------------------------------------------
  readonly sndbuf: number;
  readonly truesize: number;
  /** sk_wmem_alloc of the sending socket. */
  wmemAlloc = 0;
  /** Queued skbs, as slots of the skb slab, FIFO ring. */
  private readonly skbRing: Int32Array;
  private skbHead = 0;
  skbCount = 0;

  /** Kernel objects: pipe_inode_info / receiving unix_sock, and the sending unix_sock. */
  objVpn = 0;
  peerVpn = 0;

  /** Bytes queued. */
  bytes = 0;

  constructor(kind: number, name: string, unix?: UnixSockParams) {
    this.kind = kind;
    this.name = name;
    this.readWait = new WaitQueue();
    this.writeWait = kind === CH_PIPE ? this.readWait : new WaitQueue();
    this.sndbuf = unix?.sndbuf ?? 0;
    this.truesize = unix?.truesize ?? 0;
    this.skbRing = new Int32Array(unix ? Math.ceil(unix.sndbuf / unix.truesize) + 2 : 1);
  }

  // --- pipe buffer ring ---------------------------------------------------------

  /**
   * pipe_write of `len` bytes: merged into the last buffer when it fits in its page,
   * else into a new buffer. Returns the buffer used, or -1 when all PIPE_BUFFERS are in
   * use (the writer must sleep).
   */
  pipeWrite(len: number): number {
    let b = -1;
    if (this.nrbufs > 0) {
      const last = (this.curbuf + this.nrbufs - 1) % PIPE_BUFFERS;
      if (this.bufLen[last]! + len <= PIPE_BUF_SIZE) b = last;
    }
    if (b < 0) {
      if (this.nrbufs === PIPE_BUFFERS) return -1;
      b = (this.curbuf + this.nrbufs) % PIPE_BUFFERS;
      this.bufLen[b] = 0;
      this.nrbufs++;
    }
    this.bufLen[b]! += len;
    this.bytes += len;
    return b;
  }

  /** pipe_read of up to `len` bytes from the first buffer(s). Returns bytes read and whether a buffer was released. */
  pipeRead(len: number): { read: number; released: boolean } {
    let read = 0;
    let released = false;
    while (read < len && this.nrbufs > 0) {
      const b = this.curbuf;
      const take = Math.min(len - read, this.bufLen[b]!);
      this.bufLen[b]! -= take;
      read += take;
      if (this.bufLen[b] === 0) {
        this.curbuf = (b + 1) % PIPE_BUFFERS;
        this.nrbufs--;
        released = true;
      }
    }
    this.bytes -= read;
    return PIPE_READ_RESULT.set(read, released);
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

  queueSkb(slot: number, len: number): void {
    this.skbRing[(this.skbHead + this.skbCount) % this.skbRing.length] = slot;
    this.skbCount++;
    this.wmemAlloc += this.truesize;
    this.bytes += len;
  }

  /** Dequeue the oldest skb; returns its slab slot. */
  dequeueSkb(len: number): number {
    const slot = this.skbRing[this.skbHead]!;
    this.skbHead = (this.skbHead + 1) % this.skbRing.length;
    this.skbCount--;
    this.wmemAlloc -= this.truesize;
    this.bytes -= len;
    return slot;
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
 */
export class SkbSlab {
  private readonly freeSlots: Int32Array;
  private nFree: number;
  private readonly headPage: Int32Array;
  private readonly dataPage: Int32Array;
  constructor(
    readonly capacity: number,
    readonly headsPerPage: number,
    readonly dataPerPage: number,
    private readonly newPage: () => number,
  ) {
    this.freeSlots = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.freeSlots[i] = capacity - 1 - i;
    this.nFree = capacity;
    this.headPage = new Int32Array(Math.ceil(capacity / headsPerPage)).fill(-1);
    this.dataPage = new Int32Array(Math.ceil(capacity / dataPerPage)).fill(-1);
  }
  alloc(): number {
    if (this.nFree === 0) throw new Error('skb slab exhausted');
    return this.freeSlots[--this.nFree]!;
  }
  free(slot: number): void {
    this.freeSlots[this.nFree++] = slot;
  }
  /** Page (VPN) of the sk_buff head of `slot`. */
  headVpn(slot: number): number {
    const i = Math.floor(slot / this.headsPerPage);
    let p = this.headPage[i]!;
    if (p < 0) p = this.headPage[i] = this.newPage();
    return p;
  }
  /** Page (VPN) of the data area of `slot`. */
  dataVpn(slot: number): number {
    const i = Math.floor(slot / this.dataPerPage);
    let p = this.dataPage[i]!;
    if (p < 0) p = this.dataPage[i] = this.newPage();
    return p;
  }
}
