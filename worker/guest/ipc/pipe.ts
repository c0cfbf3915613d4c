/**
 * Pipes (fs/pipe.c, 2.6.20): PIPE_BUFFERS (16) page buffers in a ring; a small write is
 * merged into the last buffer when it fits in its page, else takes a new buffer; a
 * writer sleeps when all 16 are in use. Readers and writers sleep on one wait queue
 * (pipe->wait), in pipe_wait (TASK_INTERRUPTIBLE | TASK_NONINTERACTIVE).
 *
 * A new buffer's page is the pipe's `tmp_page` when it holds one, else a fresh page
 * (pipe_write); a buffer emptied by a reader gives its page back as `tmp_page` if there is
 * none (anon_pipe_buf_release: "a one-deep allocation cache"), else frees it. So a pipe
 * whose messages are read before the next is written (lat_ctx's ring, lat_pipe) writes
 * into one page over and over. The pages are the pipe's PIPE_BUFFERS frames, handed out
 * lowest first.
 */
import type { Costs } from '../../../shared/costs.js';
import type { RecordBus } from '../../smp/bus.js';
import { emitPipeRead } from '../../smp/records/pipe-read.js';
import { emitPipeWrite } from '../../smp/records/pipe-write.js';
import type { GuestCpu } from '../cpu.js';
import { KTEXT } from '../layout.js';
import type { Scheduler } from '../sched/core.js';
import type { Task } from '../task.js';
import { ChannelBase, CH_PIPE } from './channel.js';

export const PIPE_BUFFERS = 16;
export const PIPE_BUF_SIZE = 4096;

/** Reused result of Pipe.pipeRead (no allocation per read). */
const PIPE_READ_RESULT = {
  read: 0,
  released: false,
  set(read: number, released: boolean) {
    this.read = read;
    this.released = released;
    return this;
  },
};

/** pipe_inode_info: the buffer ring. */
export class Pipe extends ChannelBase {
  readonly kind = CH_PIPE;
  /**
   * Wake readers with a sync wake-up (no preemption of the writer on its CPU), for pipes
   * that stand in for a recorded order of switches rather than model a program's IPC.
   */
  readonly syncWake: boolean;
  /**
   * Bytes held by each page buffer (ring from curbuf). A writer sleeps when PIPE_BUFFERS
   * are in use; the merged ring grows past them (by PIPE_BUFFERS multiples, so a slot's
   * page is its index modulo PIPE_BUFFERS whatever the ring's length) because writers
   * on other vCPUs may each have filled the pipe as they saw it within one quantum.
   */
  private bufLen: Int32Array;
  /** Which of the pipe's pages each ring slot in use holds (an index into bufVpn; + PIPE_BUFFERS when borrowed). */
  private slotPage: Int32Array;
  curbuf = 0;
  nrbufs = 0;
  /** pipe->tmp_page: the page kept by the last release (an index into bufVpn), or -1. */
  private tmpPage = -1;
  /** The pipe's pages held by a buffer or as tmp_page: bit i for page i. */
  private pagesHeld = 0;
  /** The pipe's pages (VPNs): the frames its buffers take, lowest free first. */
  readonly bufVpn: Int32Array;

  constructor(name: string, vcpus: number, shareWith?: Pipe, syncWake = false) {
    super(name, vcpus, true, shareWith);
    this.syncWake = shareWith ? shareWith.syncWake : syncWake;
    this.bufLen = new Int32Array(shareWith ? shareWith.bufLen.length : PIPE_BUFFERS);
    this.slotPage = new Int32Array(this.bufLen.length);
    this.bufVpn = shareWith ? shareWith.bufVpn : new Int32Array(PIPE_BUFFERS);
  }

  newView(): this {
    return new Pipe(this.name, 1, this) as this;
  }

  /** Only the buffers in use matter. */
  copyStateFrom(src: this): void {
    this.bytes = src.bytes;
    if (this.bufLen.length !== src.bufLen.length) {
      this.bufLen = new Int32Array(src.bufLen.length);
      this.slotPage = new Int32Array(src.bufLen.length);
    }
    const ring = this.bufLen.length;
    this.curbuf = src.curbuf;
    this.nrbufs = src.nrbufs;
    this.tmpPage = src.tmpPage;
    this.pagesHeld = src.pagesHeld;
    for (let i = 0; i < src.nrbufs; i++) {
      const b = (src.curbuf + i) % ring;
      this.bufLen[b] = src.bufLen[b]!;
      this.slotPage[b] = src.slotPage[b]!;
    }
  }

  /**
   * pipe_write of `len` bytes: merged into the last buffer when it fits in its page,
   * else into a new buffer. Returns the page written (an index into bufVpn), or -1 when
   * all PIPE_BUFFERS are in use (the writer must sleep). `force`: a write another vCPU
   * already made, merged in.
   */
  pipeWrite(len: number, force = false): number {
    const ring = this.bufLen.length;
    let b = -1;
    if (this.nrbufs > 0) {
      const last = (this.curbuf + this.nrbufs - 1) % ring;
      if (this.bufLen[last]! + len <= PIPE_BUF_SIZE) b = last;
    }
    if (b < 0) {
      if (this.nrbufs >= PIPE_BUFFERS && !force) return -1;
      if (this.nrbufs === ring) this.grow();
      b = (this.curbuf + this.nrbufs) % this.bufLen.length;
      this.bufLen[b] = 0;
      this.slotPage[b] = this.takePage();
      this.nrbufs++;
    }
    this.bufLen[b]! += len;
    this.bytes += len;
    return this.slotPage[b]! % PIPE_BUFFERS;
  }

  /**
   * A new buffer's page: tmp_page, else the lowest of the pipe's pages not held (alloc_page).
   * Past PIPE_BUFFERS buffers (writes of several vCPUs merged within one quantum) every page
   * is held: the buffer shares page `nrbufs` mod PIPE_BUFFERS, marked borrowed (+PIPE_BUFFERS).
   */
  private takePage(): number {
    const t = this.tmpPage;
    if (t >= 0) {
      this.tmpPage = -1;
      return t;
    }
    if (this.pagesHeld === (1 << PIPE_BUFFERS) - 1) return PIPE_BUFFERS + (this.nrbufs % PIPE_BUFFERS);
    let p = 0;
    while ((this.pagesHeld >>> p) & 1) p++;
    this.pagesHeld |= 1 << p;
    return p;
  }

  /** anon_pipe_buf_release: the emptied buffer's page becomes tmp_page if there is none, else is freed. */
  private releasePage(p: number): void {
    if (p >= PIPE_BUFFERS) return; // borrowed: held by another buffer still
    if (this.tmpPage < 0) this.tmpPage = p;
    else this.pagesHeld &= ~(1 << p);
  }

  /** Double the ring, each buffer in use keeping its slot modulo the old and the new length's common PIPE_BUFFERS. */
  private grow(): void {
    const old = this.bufLen;
    const oldPages = this.slotPage;
    const ring = new Int32Array(old.length * 2);
    const pages = new Int32Array(old.length * 2);
    for (let i = 0; i < this.nrbufs; i++) {
      ring[(this.curbuf + i) % ring.length] = old[(this.curbuf + i) % old.length]!;
      pages[(this.curbuf + i) % ring.length] = oldPages[(this.curbuf + i) % old.length]!;
    }
    this.bufLen = ring;
    this.slotPage = pages;
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
        this.releasePage(this.slotPage[b]!);
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
    return this.bufVpn[this.slotPage[this.curbuf]! % PIPE_BUFFERS]!;
  }
}

/** The pipe's file operations: pipe_write and pipe_read. */
export class PipeOps {
  /** With several vCPUs: the records that connect them. */
  bus: RecordBus | null = null;

  constructor(
    private readonly c: Costs,
    private readonly sched: Scheduler,
  ) {}

  /** pipe_write: merge or take a buffer; sleep when all 16 are full; wake readers. */
  write(cpu: GuestCpu, t: Task, p: Pipe, len: number): boolean {
    cpu.work(this.c.pipeWrite);
    cpu.touch(KTEXT.pipeA);
    cpu.touch(KTEXT.pipeB);
    cpu.touch(p.objVpn);
    const b = p.pipeWrite(len);
    if (b < 0) {
      // Full: wake the readers (synchronously, we are about to sleep) and wait for room.
      this.sched.wakeUpAll(cpu, p.readWaitAt(cpu.id), true);
      this.sched.sleepOn(t, p.writeWaitAt(cpu.id), true); // pipe_wait: TASK_INTERRUPTIBLE | TASK_NONINTERACTIVE
      return false;
    }
    cpu.touch(p.bufVpn[b]!);
    cpu.stat.messages++;
    if (this.bus !== null) emitPipeWrite(this.bus, cpu.vcpu, p.id, len);
    this.sched.wakeUpAll(cpu, p.readWaitAt(cpu.id), p.syncWake);
    return true;
  }

  /** pipe_read: sleep on an empty pipe; release emptied buffers and wake writers. */
  read(cpu: GuestCpu, t: Task, p: Pipe, len: number): boolean {
    cpu.work(this.c.pipeRead);
    cpu.touch(KTEXT.pipeA);
    cpu.touch(KTEXT.pipeB);
    cpu.touch(p.objVpn);
    if (p.nrbufs === 0) {
      this.sched.sleepOn(t, p.readWaitAt(cpu.id), true); // pipe_wait
      return false;
    }
    cpu.touch(p.firstBufVpn);
    const r = p.pipeRead(len);
    const released = r.released;
    // What this vCPU took out, merged as such.
    if (this.bus !== null) emitPipeRead(this.bus, cpu.vcpu, p.id, r.read);
    if (released) this.sched.wakeUpAll(cpu, p.writeWaitAt(cpu.id), false);
    return true;
  }
}
