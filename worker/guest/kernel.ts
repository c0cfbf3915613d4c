/**
 * The guest kernel: a Linux 2.6.20-like i386 kernel reduced to what makes context
 * switches, cr3 loads, page-table writes and port I/O happen. System calls on pipes and
 * unix sockets block and wake tasks; the O(1) scheduler picks who runs; a switch to
 * another address space loads cr3 (through the paravirt cr3 cache in kvm-paravirt); the
 * timer tick comes in through the i8259A and is acknowledged with 2.6.20's port
 * sequences; the idle loop executes HLT.
 *
 * Every guest operation charges its native cycles (times QEMU's slowdown under qemu)
 * and touches the pages it runs on and uses, through the vCPU's TLB; the platform
 * resolves the misses, traps and exits of the mode.
 */
import type { Costs } from '../../shared/costs.js';
import { PicPair } from '../pic.js';
import {
  ATA_CMD_READ_DMA,
  BMDMA_COMMAND,
  BMDMA_PRD,
  BMDMA_STATUS,
  IDE_COMMAND,
  IDE_IRQ,
  IDE_PORT_BASE,
  IDE_STATUS,
  IdeDisk,
} from '../devices/ide.js';
import { Linux8259Driver, IO_DELAY_PORT, outbP, type PortIo } from './i8259-linux.js';
import type { Platform } from '../platform/platform.js';
import type { Vcpu } from '../vcpu.js';
import {
  type GuestMemory,
  KERNEL_PDE_FIRST,
  KERNEL_VPN_BASE,
  PAGE_SHIFT,
  PT_ENTRIES,
  PTE_A,
  PTE_D,
  PTE_G,
  PTE_P,
  PTE_RW,
  PTE_US,
} from '../memory.js';
import { Channel, CH_PIPE, CH_UNIX, SkbSlab, WaitQueue, PIPE_BUFFERS } from './channel.js';
import type { GuestSmp } from './smp.js';
import { M_CHILD_EXIT, M_MMPUT, M_PIPE_READ, M_PIPE_WRITE, M_UNIX_RECV, M_UNIX_SEND, M_WAKE } from '../smp/bus.js';
import { Mm, Task, TASK_DEAD, TASK_INTERRUPTIBLE, TASK_RUNNING, idleProgram, type Program } from './task.js';
import {
  chargeRun,
  creditSleep,
  DEF_TIMESLICE_NS,
  ON_RUNQUEUE_WEIGHT,
  SLEEP_INTERACTIVE,
  SLEEP_NONINTERACTIVE,
  SLEEP_NORMAL,
} from './sched.js';
import {
  KDATA_GLOBAL,
  KTEXT,
  SKB_DATA_PER_PAGE,
  SKB_SLAB_OBJECTS,
  SKB_HEADS_PER_PAGE,
  UNIX_SKB_TRUESIZE,
  USER,
} from './layout.js';

/** The i8254 PIT's ports: the model charges their accesses, it does not emulate the counter. */
const PIT_CH0 = 0x40;
const PIT_MODE = 0x43;

export interface KernelOptions {
  readonly hz: number;
  /** The paravirt patch's guest side: cr3 cache lookups, exit-free io delay, simplified PIC ack, no cr3 read to flush. */
  readonly paravirt: boolean;
  /**
   * sleep_avg a new task starts with (ns): what fork gives a child of a shell-started
   * parent (CURRENT_BONUS * CHILD_PENALTY / 100, in whole bonus steps).
   */
  readonly initialSleepAvgNs: number;
  /** Run the translation checker at every page-table teardown and page-directory free. */
  readonly check: boolean;
  /** sk_sndbuf of a unix socket (bytes). */
  readonly sndbuf: number;
}

export class Kernel implements PortIo {
  readonly pic = new PicPair();
  readonly picDriver = new Linux8259Driver();
  /** Every task, by pid - 1. */
  readonly tasks: Task[] = [];
  /** Every pipe and socket, by id. */
  readonly channels: Channel[] = [];
  /** Every address space, by id. */
  readonly mms: Mm[] = [];
  /** Tasks not yet exited (idle tasks excluded); with several vCPUs, as this replica knows it. */
  liveTasks = 0;
  /**
   * The workload's time marks (cycles): 'first' marks keep the earliest value recorded,
   * 'last' marks the latest, so that marks taken on different vCPUs combine.
   */
  readonly marks = new Float64Array(8).fill(NaN);
  /** 1 for a 'first' mark, 2 for a 'last' one (0: not recorded here). */
  readonly markKinds = new Float64Array(8);
  /** With several vCPUs: the messages and per-vCPU views that connect them (null with one). */
  smp: GuestSmp | null = null;
  /** Per vCPU: translation checks run on its shadow tables, and the most stale translations one of them found. */
  readonly checksBy: Int32Array;
  readonly staleBy: Int32Array;
  private readonly checking: boolean;
  private readonly sndbuf: number;
  /** Cycles per timer tick. */
  readonly tickCycles: number;
  private readonly timesliceTicks: number;
  private readonly factor: number;
  private readonly nsPerCycle: number;
  private readonly paravirt: boolean;
  private readonly initialSleepAvgNs: number;
  /** PDEs of the kernel half (the shared, global kernel page tables), copied into every new page directory. */
  private readonly kernelPdes: number[] = [];
  /** Frames shared by every process: the benchmark text and libc. */
  private readonly textFrame: number;
  private readonly libcFrame: number;
  /** The kernel's own address space (swapper_pg_dir), loaded at boot, borrowed by idle. */
  readonly initMm: Mm;
  /** Per-vCPU run-queue page. */
  private readonly rqVpn: number[];
  readonly skbSlab: SkbSlab;
  /** The emulated IDE disk, and the queue its readers sleep on. */
  readonly disk: IdeDisk;
  private readonly diskWait = new WaitQueue();
  /** Tasks sleeping on a kernel timer, per vCPU, and the queue they sleep on. */
  private readonly timers: Task[][];
  private readonly timerWaits: WaitQueue[];
  /** vCPU on whose behalf port I/O is issued (the PortIo interface has no vCPU argument). */
  private ioVcpu: Vcpu;
  private nextPid = 1;

  constructor(
    readonly mem: GuestMemory,
    readonly platform: Platform,
    readonly c: Costs,
    readonly vcpus: readonly Vcpu[],
    opts: KernelOptions,
    bootVcpu: Vcpu,
  ) {
    this.factor = platform.guestFactor;
    this.nsPerCycle = 1e9 / c.clockHz;
    this.paravirt = opts.paravirt;
    this.initialSleepAvgNs = opts.initialSleepAvgNs;
    this.checking = opts.check;
    this.sndbuf = opts.sndbuf;
    this.tickCycles = Math.round(c.clockHz / opts.hz);
    this.timesliceTicks = Math.max(1, Math.round((DEF_TIMESLICE_NS * opts.hz) / 1e9));
    this.timers = vcpus.map(() => []);
    this.checksBy = new Int32Array(vcpus.length);
    this.staleBy = new Int32Array(vcpus.length);
    this.timerWaits = vcpus.map(() => new WaitQueue());
    this.disk = new IdeDisk(Math.round((c.diskServiceNs * c.clockHz) / 1e9));
    this.buildKernelPageTables();
    this.textFrame = mem.allocFrame();
    this.libcFrame = mem.allocFrame();
    this.rqVpn = vcpus.map(() => this.kernelPage());
    // The skbuff slab: room for every socket buffer of every group filled at once. Its
    // pages come from the page allocator when first needed, without a modelled clear_page:
    // a slab page that reuses a frame still shadowed (freed by an exited process) does not
    // take the traps its initialisation would. Rare, and left so.
    this.skbSlab = new SkbSlab(SKB_SLAB_OBJECTS, vcpus.length, SKB_HEADS_PER_PAGE, SKB_DATA_PER_PAGE, (cpu) => this.kernelPage(null, cpu));
    // init_mm: swapper_pg_dir, the kernel-only page directory the vCPUs boot on.
    this.initMm = this.addMm(new Mm(mem.allocPageTable()));
    for (let i = 0; i < this.kernelPdes.length; i++) mem.writeEntry(this.initMm.pdFrame, KERNEL_PDE_FIRST + i, this.kernelPdes[i]!);
    this.initMm.users = 1;
    for (const v of vcpus) {
      platform.loadCr3(v, this.initMm.pdFrame);
      v.activeMm = this.initMm;
      const idle = new Task(0, `swapper/${v.id}`, v.id, null, idleProgram);
      idle.prio = 140;
      idle.kstackVpn = this.kernelPage();
      idle.taskStructVpn = idle.kstackVpn;
      v.idleTask = idle;
      v.current = idle;
      v.nextTick = this.tickCycles;
    }
    // init_8259A at boot, then the cascade (IRQ2) and the timer (IRQ0) unmasked; counters start after boot.
    this.ioVcpu = bootVcpu;
    this.picDriver.init(this);
    this.picDriver.enableIrq(this, 2);
    this.picDriver.enableIrq(this, 0);
    this.picDriver.enableIrq(this, IDE_IRQ); // request_irq of the IDE driver
    this.pic.portReads = this.pic.portWrites = this.pic.irqsDelivered = 0;
    this.ioVcpu = vcpus[0]!;
  }

  // --- memory set-up (boot and fork/exec; not timed) ------------------------------

  /** The lowmem direct map: every guest frame at 0xC0000000 + frame * 4 KiB, global, supervisor. */
  private buildKernelPageTables(): void {
    const mem = this.mem;
    const nPts = Math.ceil(mem.numFrames / PT_ENTRIES);
    const pts: number[] = [];
    for (let i = 0; i < nPts; i++) pts.push(mem.allocPageTable());
    for (let f = 0; f < mem.numFrames; f++) {
      mem.writeEntry(pts[f >>> 10]!, f & (PT_ENTRIES - 1), (f << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A | PTE_D | PTE_G);
    }
    for (const pt of pts) this.kernelPdes.push((pt << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A);
  }

  // Set-up (v === null) writes guest memory directly, before the measured run; at run
  // time (a vCPU given) every store goes through the platform, where it may trap.

  /** A page from the page allocator; at run time cleared by the kernel (clear_page). */
  allocPage(v: Vcpu | null = null, cpu = v?.id ?? 0): number {
    const f = this.mem.allocFrame(cpu);
    if (v !== null) this.clearPage(v, f);
    return f;
  }

  /** A frame for a kernel object, returned as its kernel virtual page. */
  kernelPage(v: Vcpu | null = null, cpu = v?.id ?? 0): number {
    return KERNEL_VPN_BASE + this.allocPage(v, cpu);
  }

  /** A page for a page table (pte_alloc_one / pgd_alloc), zeroed. */
  private pageTablePage(v: Vcpu | null): number {
    if (v === null) return this.mem.allocPageTable();
    const f = this.mem.allocFrame(v.id);
    this.mem.holdPageTable(f);
    this.clearPage(v, f);
    return f;
  }

  private store(v: Vcpu | null, frame: number, index: number, value: number): void {
    if (v === null) this.mem.writeEntry(frame, index, value);
    else this.setPte(v, frame, index, value);
  }

  /**
   * clear_page: 1024 stores of zero. While the frame is write-protected (it still has a
   * shadow page) each store traps; once the fork detector has zapped the shadow, the
   * rest are plain stores.
   */
  clearPage(v: Vcpu, f: number): void {
    this.work(v, this.c.clearPage);
    if (!this.mem.hasContents(f)) return; // never a page table: nothing the model tracks
    for (let i = 0; i < PT_ENTRIES; i++) {
      if (!this.platform.isWriteProtected(v, f)) {
        this.mem.zeroFrom(f, i);
        break;
      }
      this.setPte(v, f, i, 0);
    }
    this.checkpoint(v);
  }

  /** pgd_alloc: a page directory whose kernel half points at the shared kernel page tables. */
  createMm(v: Vcpu | null = null): Mm {
    const pd = this.pageTablePage(v);
    for (let i = 0; i < this.kernelPdes.length; i++) this.store(v, pd, KERNEL_PDE_FIRST + i, this.kernelPdes[i]!);
    const mm = this.addMm(new Mm(pd));
    // Text and libc: the same frames in every process, read-only.
    this.mapUser(mm, USER.text, this.textFrame, false, v);
    this.mapUser(mm, USER.libc, this.libcFrame, false, v);
    return mm;
  }

  /** Map a user page (as exec/fork or a page fault would), allocating the page table if needed. */
  mapUser(mm: Mm, vpn: number, frame: number, writable: boolean, v: Vcpu | null = null): void {
    const mem = this.mem;
    const pdi = vpn >>> 10;
    let pde = mem.readEntry(mm.pdFrame, pdi);
    if ((pde & PTE_P) === 0) {
      const pt = this.pageTablePage(v);
      pde = (pt << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_US | PTE_A;
      this.store(v, mm.pdFrame, pdi, pde);
      mm.userPtFrames.push(pt);
      mm.userPtPdis.push(pdi);
    }
    const flags = PTE_P | PTE_US | PTE_A | (writable ? PTE_RW | PTE_D : 0);
    this.store(v, pde >>> PAGE_SHIFT, vpn & (PT_ENTRIES - 1), (frame << PAGE_SHIFT) | flags);
    mm.userVpns.push(vpn);
    if (writable) mm.privateFrames.push(frame);
  }

  /** The translation checker, when enabled: count stale shadow translations of v (or of every vCPU this replica runs) now. */
  checkpoint(v?: Vcpu): void {
    if (!this.checking) return;
    if (v === undefined) {
      for (const w of this.smp?.localVcpus ?? this.vcpus) this.checkpoint(w);
      return;
    }
    this.checksBy[v.id]!++;
    const n = this.platform.staleTranslations(v);
    if (n > this.staleBy[v.id]!) this.staleBy[v.id] = n;
  }

  /**
   * A new task (fork/clone done before the measured part): its kernel stack and
   * task_struct, and in its mm a private stack page and, for a new process, a data page.
   * `threadIndex` >= 0 makes it a thread of `mm` with its own stack.
   */
  createTask(name: string, mm: Mm, cpu: number, program: Program, threadIndex = -1, v: Vcpu | null = null): Task {
    const t = new Task(this.nextPid++, name, cpu, mm, program);
    t.kstackVpn = this.kernelPage(v);
    t.taskStructVpn = this.kernelPage(v);
    if (threadIndex < 0) {
      t.stackVpn = USER.stack;
      t.dataVpn = USER.data;
      if (mm.users === 0) {
        this.mapUser(mm, USER.stack, this.allocPage(v), true, v);
        this.mapUser(mm, USER.data, this.allocPage(v), true, v);
      }
    } else {
      t.stackVpn = USER.threadStackBase + threadIndex * 8;
      t.dataVpn = USER.data;
      if (mm.userVpns.indexOf(USER.data) < 0) this.mapUser(mm, USER.data, this.allocPage(v), true, v);
      this.mapUser(mm, t.stackVpn, this.allocPage(v), true, v);
    }
    mm.users++;
    t.sleepAvg = this.initialSleepAvgNs;
    t.prio = creditSleep(t, 0);
    t.timeSlice = this.timesliceTicks;
    this.tasks.push(t);
    this.liveTasks++;
    return t;
  }

  /**
   * sched_fork's time-slice split: the child gets half of the parent's remaining slice
   * (rounded up) and the parent keeps the other half (at least one tick), so the total of
   * pending slices does not grow with fork.
   */
  splitTimeslice(parent: Task, child: Task): void {
    child.timeSlice = (parent.timeSlice + 1) >> 1;
    parent.timeSlice >>= 1;
    if (parent.timeSlice === 0) parent.timeSlice = 1;
  }

  /** fork() of a new process by `parent` at run time: its page tables are written by the running guest. */
  fork(v: Vcpu, parent: Task, name: string, program: Program): Task {
    this.enterSyscall(v, parent);
    this.work(v, this.c.fork);
    const t = this.createTask(name, this.createMm(v), parent.cpu, program, -1, v);
    t.parent = parent;
    t.migratable = false;
    this.splitTimeslice(parent, t);
    this.start(t);
    return t;
  }

  /** Make a new task runnable on its vCPU (wake_up_new_task). */
  start(t: Task): void {
    t.state = TASK_RUNNING;
    const v = this.vcpus[t.cpu]!;
    v.rq.enqueue(t);
    v.needResched = true;
  }

  /**
   * Park a new task on a wait queue, as if it had run up to a blocking call.
   * `inSyscall`: it sleeps inside the call its program issues first (so the retry
   * skips the entry), rather than before it.
   */
  park(t: Task, wq: WaitQueue, inSyscall: boolean): void {
    this.sleepOn(t, wq);
    t.inSyscall = inSyscall;
  }

  newPipe(name: string): Channel {
    const ch = new Channel(CH_PIPE, name, undefined, this.vcpus.length);
    ch.objVpn = this.kernelPage();
    for (let i = 0; i < PIPE_BUFFERS; i++) ch.bufVpn[i] = this.kernelPage();
    return this.addChannel(ch);
  }

  private addMm(mm: Mm): Mm {
    mm.id = this.mms.length;
    this.mms.push(mm);
    return mm;
  }

  private addChannel(ch: Channel): Channel {
    ch.id = this.channels.length;
    this.channels.push(ch);
    return ch;
  }

  /** The channel as vCPU `v` sees it: the channel itself with one vCPU, else v's view of it for this quantum. */
  private chan(v: Vcpu, ch: Channel): Channel {
    const smp = this.smp;
    return smp === null ? ch : smp.view(v.id, ch);
  }

  /** Record the time of a workload event: the earliest one of mark `i`. */
  markFirst(i: number, cycles: number): void {
    const m = this.marks[i]!;
    if (!(m <= cycles)) this.marks[i] = cycles;
    this.markKinds[i] = 1;
  }

  /** Record the time of a workload event: the latest one of mark `i`. */
  markLast(i: number, cycles: number): void {
    const m = this.marks[i]!;
    if (!(m >= cycles)) this.marks[i] = cycles;
    this.markKinds[i] = 2;
  }

  /** A socketpair(AF_UNIX, SOCK_STREAM): one direction of it, writer to reader. */
  newUnixStream(name: string): Channel {
    const ch = new Channel(CH_UNIX, name, { sndbuf: this.sndbuf, truesize: UNIX_SKB_TRUESIZE }, this.vcpus.length);
    ch.objVpn = this.kernelPage();
    ch.peerVpn = this.kernelPage();
    return this.addChannel(ch);
  }

  // --- the hot path: cycles and memory touches ----------------------------------------

  /** Guest work of `cycles` native cycles. */
  work(v: Vcpu, cycles: number): void {
    v.clock += cycles * this.factor;
  }

  /** A memory access to virtual page `vpn`. */
  touch(v: Vcpu, vpn: number): void {
    if (!v.tlb.lookup(vpn)) this.platform.tlbMiss(v, vpn, false);
  }

  /** User code between system calls: the loop, the libc wrapper, the stack, the buffer. */
  userWork(v: Vcpu, t: Task, cycles: number): void {
    this.work(v, cycles);
    this.touch(v, USER.text);
    this.touch(v, USER.libc);
    this.touch(v, t.stackVpn);
    this.touch(v, t.dataVpn);
  }

  /** System call entry and exit; skipped when a task resumes a call it slept in. */
  private enterSyscall(v: Vcpu, t: Task): void {
    if (t.inSyscall) {
      t.inSyscall = false;
      return;
    }
    v.syscalls++;
    this.work(v, this.c.syscallEntryExit);
    this.touch(v, KTEXT.entry);
    this.touch(v, KTEXT.readWrite);
    this.touch(v, t.kstackVpn);
    this.touch(v, t.taskStructVpn);
  }

  private ns(cycles: number): number {
    return cycles * this.nsPerCycle;
  }

  // --- system calls ---------------------------------------------------------------
  // Each returns true when the call completed, false when the task went to sleep
  // (the program retries the same step when it runs again).

  write(v: Vcpu, t: Task, chan: Channel, len: number): boolean {
    this.enterSyscall(v, t);
    const ch = this.chan(v, chan);
    return ch.kind === CH_PIPE ? this.pipeWrite(v, t, ch, len) : this.unixSend(v, t, ch, len);
  }

  read(v: Vcpu, t: Task, chan: Channel, len: number): boolean {
    this.enterSyscall(v, t);
    const ch = this.chan(v, chan);
    return ch.kind === CH_PIPE ? this.pipeRead(v, t, ch, len) : this.unixRecv(v, t, ch, len);
  }

  /** poll() for input without reading it (pipe_poll). */
  poll(v: Vcpu, t: Task, chan: Channel): boolean {
    this.enterSyscall(v, t);
    const ch = this.chan(v, chan);
    this.work(v, this.c.pipeRead);
    this.touch(v, KTEXT.pipeB);
    this.touch(v, ch.objVpn);
    if (ch.bytes > 0) return true;
    this.sleepOn(t, ch.readWaitAt(v.id)); // poll_wait: a plain interruptible sleep
    return false;
  }

  /** pipe_write: merge or take a buffer; sleep when all 16 are full; wake readers. */
  private pipeWrite(v: Vcpu, t: Task, ch: Channel, len: number): boolean {
    this.work(v, this.c.pipeWrite);
    this.touch(v, KTEXT.pipeA);
    this.touch(v, KTEXT.pipeB);
    this.touch(v, ch.objVpn);
    const b = ch.pipeWrite(len);
    if (b < 0) {
      // Full: wake the readers (synchronously, we are about to sleep) and wait for room.
      this.wakeUpAll(v, ch.readWaitAt(v.id), true);
      this.sleepOn(t, ch.writeWaitAt(v.id), true); // pipe_wait: TASK_INTERRUPTIBLE | TASK_NONINTERACTIVE
      return false;
    }
    this.touch(v, ch.bufVpn[b]!);
    v.messages++;
    const smp = this.smp;
    if (smp !== null) {
      const at = smp.emit(v, M_PIPE_WRITE, 2);
      smp.d[at] = ch.id;
      smp.d[at + 1] = len;
    }
    this.wakeUpAll(v, ch.readWaitAt(v.id), false);
    return true;
  }

  /** pipe_read: sleep on an empty pipe; release emptied buffers and wake writers. */
  private pipeRead(v: Vcpu, t: Task, ch: Channel, len: number): boolean {
    this.work(v, this.c.pipeRead);
    this.touch(v, KTEXT.pipeA);
    this.touch(v, KTEXT.pipeB);
    this.touch(v, ch.objVpn);
    if (ch.nrbufs === 0) {
      this.sleepOn(t, ch.readWaitAt(v.id), true); // pipe_wait
      return false;
    }
    this.touch(v, ch.firstBufVpn);
    const r = ch.pipeRead(len);
    const released = r.released;
    const smp = this.smp;
    if (smp !== null) {
      const at = smp.emit(v, M_PIPE_READ, 2);
      smp.d[at] = ch.id;
      smp.d[at + 1] = r.read; // what this vCPU took out, merged as such
    }
    if (released) this.wakeUpAll(v, ch.writeWaitAt(v.id), false);
    return true;
  }

  /** unix_stream_sendmsg: one skb per write, charged to the sender's wmem; sk_data_ready wakes the reader. */
  private unixSend(v: Vcpu, t: Task, ch: Channel, len: number): boolean {
    this.work(v, this.c.unixSend);
    this.touch(v, KTEXT.unixA);
    this.touch(v, KTEXT.sock);
    this.touch(v, KTEXT.skb);
    this.touch(v, KTEXT.slab);
    this.touch(v, ch.peerVpn);
    if (ch.sendBlocked) {
      this.sleepOn(t, ch.writeWaitAt(v.id)); // sock_wait_for_wmem
      return false;
    }
    const slab = this.skbSlab;
    const slot = slab.alloc(v.id);
    const head = slab.headVpn(slot);
    const data = slab.dataVpn(slot);
    this.touch(v, head);
    this.touch(v, data);
    ch.queueSkb(slot, len);
    this.touch(v, ch.objVpn);
    this.touch(v, KTEXT.unixB);
    v.messages++;
    const smp = this.smp;
    if (smp !== null) {
      const at = smp.emit(v, M_UNIX_SEND, 5);
      const d = smp.d;
      d[at] = ch.id;
      d[at + 1] = len;
      d[at + 2] = slot;
      d[at + 3] = head;
      d[at + 4] = data;
    }
    this.wakeUpAll(v, ch.readWaitAt(v.id), false); // sock_def_readable: wake_up_interruptible
    return true;
  }

  /** unix_stream_recvmsg of one skb; sock_wfree wakes writers once unix_writable(). */
  private unixRecv(v: Vcpu, t: Task, ch: Channel, len: number): boolean {
    this.work(v, this.c.unixRecv);
    this.touch(v, KTEXT.unixA);
    this.touch(v, KTEXT.sock);
    this.touch(v, KTEXT.skb);
    this.touch(v, ch.objVpn);
    if (ch.skbCount === 0) {
      this.sleepOn(t, ch.readWaitAt(v.id)); // sk_wait_data
      return false;
    }
    const slab = this.skbSlab;
    const slot = ch.dequeueSkb(len);
    this.touch(v, slab.headVpn(slot));
    this.touch(v, slab.dataVpn(slot));
    this.touch(v, KTEXT.slab);
    const smp = this.smp;
    if (smp !== null) {
      const at = smp.emit(v, M_UNIX_RECV, 3);
      const d = smp.d;
      d[at] = ch.id;
      d[at + 1] = len;
      d[at + 2] = slot;
    }
    // kfree_skb: back to this vCPU's cache if it is one of its own objects; another
    // vCPU's object goes back to that vCPU when it merges this receive.
    if (smp === null || slab.ownerOf(slot) === v.id) slab.free(slot);
    this.touch(v, ch.peerVpn);
    const ww = ch.writeWaitAt(v.id);
    if (ch.writable && ww.count > 0) {
      this.touch(v, KTEXT.unixB);
      this.wakeUpAll(v, ww, false); // unix_write_space
    }
    return true;
  }

  /** do_exit: tear down the address space if last user, become a zombie, notify the parent. */
  exit(v: Vcpu, t: Task): void {
    this.enterSyscall(v, t);
    this.work(v, this.c.taskExit);
    this.touch(v, KTEXT.exitA);
    const mm = t.mm!;
    const smp = this.smp;
    if (smp === null) {
      if (--mm.users === 0) this.exitMmap(v, mm);
    } else {
      // mmput: mm_users is shared by the threads on every vCPU. The drop is merged at the
      // quantum's end; the vCPU whose drop is the last tears the address space down then.
      const at = smp.emit(v, M_MMPUT, 1);
      smp.d[at] = mm.id;
    }
    t.state = TASK_DEAD;
    this.liveTasks--;
    if (smp !== null) smp.exited++;
    const parent = t.parent;
    if (parent === null) return;
    if (smp !== null && parent.cpu !== v.id) {
      // The parent's vCPU learns of the zombie, and wakes the parent, at the quantum's end.
      const at = smp.emit(v, M_CHILD_EXIT, 1);
      smp.d[at] = parent.pid;
      return;
    }
    this.childExited(v, parent, true);
  }

  /** A child of `parent` is a zombie: count it and wake the parent (__wake_up_parent: wake_up_interruptible_sync). */
  childExited(v: Vcpu, parent: Task, sync: boolean, remote = false): void {
    parent.zombies++;
    this.wakeUpAll(v, parent.childWait!, sync, remote);
  }

  /**
   * nanosleep: sleep for `ns` on a kernel timer. Timers are jiffies-based (2.6.20's timer
   * wheel): the task wakes on the first tick of its vCPU at or after the expiry.
   */
  sleep(v: Vcpu, t: Task, ns: number): boolean {
    this.enterSyscall(v, t);
    if (t.wakeAt >= 0 && v.clock >= t.wakeAt) {
      t.wakeAt = -1;
      return true;
    }
    t.wakeAt = v.clock + Math.round(ns / this.nsPerCycle);
    this.timers[v.id]!.push(t);
    this.sleepOn(t, this.timerWaits[v.id]!);
    return false;
  }

  /** run_timer_softirq: wake the sleepers of this vCPU whose time has come. */
  private runTimers(v: Vcpu): void {
    const list = this.timers[v.id]!;
    for (let i = 0; i < list.length; i++) {
      const t = list[i]!;
      if (t.wakeAt > v.clock) continue;
      list.splice(i--, 1);
      this.timerWaits[v.id]!.remove(t);
      this.tryToWakeUp(v, t, false);
    }
  }

  /**
   * A read of one block that misses the page cache: the block layer queues it, the IDE
   * driver starts a DMA read if the disk is idle, and the task sleeps (io_schedule,
   * uninterruptible: no interactivity credit) until the completion interrupt.
   */
  diskRead(v: Vcpu, t: Task): boolean {
    this.enterSyscall(v, t);
    if (t.ioDone) {
      t.ioDone = false;
      return true;
    }
    this.work(v, this.c.blockIo);
    this.touch(v, KTEXT.block);
    this.disk.queue.push(t);
    if (!this.disk.busy) this.ideStartDma(v);
    this.sleepOn(t, this.diskWait, true);
    return false;
  }

  /**
   * ide_dma_setup + ide_do_rw_disk + ide_dma_start: PRD table address, bus-master stop
   * and status clear, the LBA28 task file (features, count, 3 x LBA, drive), the READ DMA
   * command, bus-master start: 11 port writes.
   */
  private ideStartDma(v: Vcpu): void {
    this.ioVcpu = v;
    this.outb(BMDMA_PRD, 0);
    this.outb(BMDMA_COMMAND, 0);
    this.outb(BMDMA_STATUS, 0x06);
    for (let reg = 1; reg <= 6; reg++) this.outb(IDE_PORT_BASE + reg, 0);
    this.outb(IDE_COMMAND, ATA_CMD_READ_DMA);
    this.outb(BMDMA_COMMAND, 0x09);
    this.disk.start(v.clock);
    this.vcpus[0]!.deviceIrqAt = this.disk.completionAt;
  }

  /**
   * IRQ14 from the disk, through the slave i8259A: the ack sequence (slave and master
   * EOIs), ide_dma_intr (status, bus-master status and stop: 2 reads, 2 writes), the
   * waiting task woken, the next request started, the line unmasked.
   */
  diskInterrupt(v: Vcpu, wasHalted: boolean): void {
    v.deviceIrqAt = Infinity;
    this.platform.irqArrival(v, wasHalted);
    this.irqEntry(v);
    this.i8259Ack(v, IDE_IRQ);
    this.touch(v, KTEXT.block);
    this.inb(IDE_STATUS);
    this.inb(BMDMA_STATUS);
    this.outb(BMDMA_STATUS, 0x04);
    this.outb(BMDMA_COMMAND, 0);
    const t = this.disk.complete();
    t.ioDone = true;
    this.diskWait.remove(t);
    this.tryToWakeUp(v, t, false);
    if (this.disk.queue.length > 0) this.ideStartDma(v);
    this.i8259Unmask(IDE_IRQ);
  }

  /** wait4 for any child: reap a zombie, or sleep on wait_chldexit. */
  wait(v: Vcpu, t: Task): boolean {
    this.enterSyscall(v, t);
    this.touch(v, KTEXT.exitA);
    if (t.zombies > 0) {
      t.zombies--;
      this.work(v, this.c.waitReap);
      return true;
    }
    this.sleepOn(t, t.childWait!);
    return false;
  }

  /**
   * exit_mmap: clear the user PTEs (zap_pte_range), flush the TLB (tlb_finish_mmu), clear
   * the user PDEs (free_pgtables) and free the page tables and private pages. These are
   * stores to page-table frames: they trap where the frames are shadowed. The page
   * directory itself is freed when the vCPU stops using it (mmdrop after the switch).
   */
  /** The last user of `mm` was a task of vCPU v that exited in the quantum just over: exit_mmap now, and free the directory if v no longer runs on it. */
  lastMmput(v: Vcpu, mm: Mm): void {
    mm.exitCpu = v.id;
    this.exitMmap(v, mm);
    if (v.activeMm !== mm) this.mmdrop(v, mm);
  }

  private exitMmap(v: Vcpu, mm: Mm): void {
    const mem = this.mem;
    this.touch(v, KTEXT.exitB);
    for (const vpn of mm.userVpns) {
      const pt = mem.readEntry(mm.pdFrame, vpn >>> 10) >>> PAGE_SHIFT;
      this.setPte(v, pt, vpn & (PT_ENTRIES - 1), 0);
    }
    this.flushTlbLocal(v);
    for (let i = 0; i < mm.userPtFrames.length; i++) {
      this.setPte(v, mm.pdFrame, mm.userPtPdis[i]!, 0);
      mem.freeFrame(mm.userPtFrames[i]!, v.id);
    }
    for (const f of mm.privateFrames) mem.freeFrame(f, v.id);
    mm.userPtFrames.length = 0;
    mm.userPtPdis.length = 0;
    mm.userVpns.length = 0;
    mm.privateFrames.length = 0;
    this.checkpoint(v);
  }

  /** set_pte / pte_clear: a store to a page-table entry, seen by the platform (it may trap). */
  setPte(v: Vcpu, frame: number, index: number, value: number): void {
    this.mem.writeEntry(frame, index, value);
    this.platform.ptWrite(v, frame, index);
  }

  // --- cr3 --------------------------------------------------------------------------

  /** write_cr3; with the paravirt patch, look the target up in para_state first. */
  writeCr3(v: Vcpu, pdFrame: number): void {
    const para = v.para;
    if (this.paravirt && para !== null) {
      this.work(v, this.c.pvCr3Lookup);
      const idx = para.lookup(pdFrame);
      if (idx >= 0) {
        this.platform.loadCachedCr3(v, idx, pdFrame);
        return;
      }
    }
    this.platform.loadCr3(v, pdFrame);
  }

  /** __flush_tlb(): reload cr3. Unpatched it reads cr3 first; the patch uses the value it knows. */
  flushTlbLocal(v: Vcpu): void {
    if (!this.paravirt) this.platform.readCr3(v);
    this.writeCr3(v, v.cr3);
  }

  // --- scheduling -----------------------------------------------------------------------

  /** Sleep on a wait queue; `nonInteractive` for TASK_NONINTERACTIVE sleeps (pipe_wait). */
  private sleepOn(t: Task, wq: WaitQueue, nonInteractive = false): void {
    t.state = TASK_INTERRUPTIBLE;
    t.inSyscall = true;
    t.sleepNonInteractive = nonInteractive;
    wq.add(t);
  }

  /**
   * wake_up on a wait queue: every sleeper, most recent first (they were added at the
   * head). `remote`: the wake-up comes from another vCPU (see tryToWakeUp).
   */
  wakeUpAll(v: Vcpu, wq: WaitQueue, sync: boolean, remote = false): void {
    const n = wq.count;
    if (n === 0) return;
    for (let i = n - 1; i >= 0; i--) this.tryToWakeUp(v, wq.at(i), sync, remote);
    wq.clear();
  }

  /**
   * try_to_wake_up: credit the sleep, enqueue, and preempt the running task if the woken
   * one has a better dynamic priority (not for a sync wake-up on the same CPU). A task
   * on another vCPU gets there with a reschedule IPI.
   */
  tryToWakeUp(v: Vcpu, t: Task, sync: boolean, remote = false): void {
    const smp = this.smp;
    if (smp !== null && t.cpu !== v.id) {
      // The task's state belongs to its vCPU: the waker pays for try_to_wake_up here,
      // the task's vCPU finishes it (and takes the IPI) at the quantum's end.
      this.work(v, this.c.wakeup);
      this.touch(v, KTEXT.schedA);
      this.touch(v, KTEXT.schedB);
      this.touch(v, t.taskStructVpn);
      if (t.cpu >= 0) this.touch(v, this.rqVpn[t.cpu]!); // (none while the balancer moves it)
      const at = smp.emit(v, M_WAKE, 1);
      smp.d[at] = t.pid;
      return;
    }
    if (t.state !== TASK_INTERRUPTIBLE) return;
    const target = this.vcpus[t.cpu]!;
    if (remote) {
      // A wake-up another vCPU made, delivered at the quantum's end: the enqueue (its
      // cost charged here, on the task's vCPU) and a reschedule IPI if it preempts.
      this.work(v, this.c.wakeup);
      this.touch(v, this.rqVpn[t.cpu]!);
      this.touch(v, t.taskStructVpn);
      if (t.sleepNonInteractive) t.sleepType = SLEEP_NONINTERACTIVE;
      t.prio = creditSleep(t, this.ns(v.clock - t.timestamp));
      if (t.sleepType === SLEEP_NORMAL) t.sleepType = SLEEP_INTERACTIVE;
      t.timestamp = v.clock;
      t.state = TASK_RUNNING;
      v.rq.enqueue(t);
      if (t.prio < v.current.prio && v.clock < v.ipiAt) v.ipiAt = v.clock;
      return;
    }
    this.work(v, this.c.wakeup);
    this.touch(v, KTEXT.schedA);
    this.touch(v, KTEXT.schedB);
    this.touch(v, t.taskStructVpn);
    this.touch(v, this.rqVpn[t.cpu]!);
    // activate_task: recalc_task_prio, then the on-run-queue credit starts from now.
    if (t.sleepNonInteractive) t.sleepType = SLEEP_NONINTERACTIVE;
    t.prio = creditSleep(t, this.ns(v.clock - t.timestamp));
    if (t.sleepType === SLEEP_NORMAL) t.sleepType = SLEEP_INTERACTIVE;
    t.timestamp = v.clock;
    t.state = TASK_RUNNING;
    target.rq.enqueue(t);
    if (target === v) {
      if (!sync && t.prio < v.current.prio) v.needResched = true;
    } else if (t.prio < target.current.prio) {
      if (v.clock < target.ipiAt) target.ipiAt = v.clock;
    }
  }

  /** schedule(): charge the outgoing task's run time, pick the next, switch mm and stack. */
  schedule(v: Vcpu): void {
    const prev = v.current;
    const now = v.clock;
    this.work(v, this.c.schedule);
    this.touch(v, KTEXT.schedA);
    this.touch(v, KTEXT.schedB);
    this.touch(v, this.rqVpn[v.id]!);
    this.touch(v, prev.kstackVpn);
    v.needResched = false;
    if (prev !== v.idleTask) {
      chargeRun(prev, this.ns(now - prev.timestamp));
      if (prev.state !== TASK_RUNNING) v.rq.dequeue(prev);
      prev.timestamp = now;
    }
    const next = v.rq.pickNext() ?? v.idleTask;
    if (next.sleepType === SLEEP_INTERACTIVE) {
      // Credit part of the time the woken task waited on the run queue.
      const waited = (this.ns(now - next.timestamp) * ON_RUNQUEUE_WEIGHT) / 100;
      const prio = creditSleep(next, waited);
      if (prio !== next.prio) v.rq.requeueAt(next, prio);
    }
    next.sleepType = SLEEP_NORMAL;
    if (next === prev) return;
    v.contextSwitches++;
    this.touch(v, KTEXT.switchTo);
    this.touch(v, next.kstackVpn);
    this.touch(v, next.taskStructVpn);
    const mm = next.mm;
    if (mm !== null && mm !== v.activeMm) {
      // switch_mm: load the new page directory; the idle task (mm null) borrows the old one.
      this.work(v, this.c.switchMm);
      v.addressSpaceSwitches++;
      const old = v.activeMm;
      this.writeCr3(v, mm.pdFrame);
      v.activeMm = mm;
      // mmdrop: with several vCPUs, only on the vCPU that tore the address space down.
      if (old !== null && old.users === 0 && (this.smp === null || old.exitCpu === v.id)) this.mmdrop(v, old);
    }
    next.timestamp = v.clock;
    v.current = next;
  }

  /** The last reference to a dead mm is gone: pgd_free. */
  private mmdrop(v: Vcpu, mm: Mm): void {
    if (mm.pdFrame < 0) return;
    this.platform.pgdFree(v, mm.pdFrame);
    this.mem.freeFrame(mm.pdFrame, v.id);
    mm.pdFrame = -1;
    this.checkpoint(v);
  }

  /** The idle loop: nothing to run, so HLT until an interrupt. */
  idle(v: Vcpu): void {
    this.touch(v, KTEXT.idle);
    this.platform.halt(v);
  }

  // --- interrupts ------------------------------------------------------------------

  /**
   * The timer tick. On vCPU 0 it is IRQ0 from the PIT through the i8259A: acknowledged
   * with mask_and_ack_8259A (or the paravirt ack), do_timer reads the PIT clocksource
   * (pit_read: outb_p + 2 x inb_p), and the line is unmasked after the handler. Other
   * vCPUs get their local APIC timer (its EOI is not modelled).
   */
  timerInterrupt(v: Vcpu, wasHalted: boolean): void {
    this.platform.irqArrival(v, wasHalted);
    v.timerTicks++;
    this.irqEntry(v);
    if (v.id === 0) {
      this.i8259Ack(v, 0);
      this.work(v, this.c.timerTick);
      this.touch(v, KTEXT.time);
      this.touch(v, KDATA_GLOBAL);
      outbP(this, PIT_MODE, 0x00);
      this.inbP(PIT_CH0);
      this.inbP(PIT_CH0);
      this.i8259Unmask(0);
    } else {
      this.work(v, this.c.timerTick);
      this.touch(v, KTEXT.time);
    }
    if (this.timers[v.id]!.length > 0) this.runTimers(v);
    this.schedulerTick(v);
  }

  /** common_interrupt ... irq_exit: the entry and exit path every interrupt takes. */
  private irqEntry(v: Vcpu): void {
    this.work(v, this.c.irqEntryExit);
    this.touch(v, KTEXT.entry);
    this.touch(v, KTEXT.irq);
    this.touch(v, v.current.kstackVpn);
  }

  /**
   * An edge on i8259A line `irq`, the CPU's INTA cycle (which sets the ISR bit), and the
   * guest's acknowledgement: 2.6.20's mask_and_ack_8259A, or the patch's EOI alone.
   */
  private i8259Ack(v: Vcpu, irq: number): void {
    const pic = this.pic;
    pic.pulseIrq(irq);
    if (pic.hasInterrupt()) pic.acknowledge();
    this.ioVcpu = v;
    this.touch(v, KTEXT.i8259);
    if (this.paravirt) this.picDriver.ackPara(this, irq);
    else this.picDriver.maskAndAck(this, irq);
  }

  /** handle_level_irq's unmask after the handler; the paravirt ack never masked. */
  private i8259Unmask(irq: number): void {
    if (!this.paravirt) this.picDriver.enableIrq(this, irq);
  }

  /** A reschedule IPI: the interrupt entry, then schedule() on the way out. */
  rescheduleInterrupt(v: Vcpu, wasHalted: boolean): void {
    this.platform.ipiArrival(v, wasHalted);
    this.irqEntry(v);
    v.needResched = true;
  }

  /** scheduler_tick: use up the running task's time slice. */
  private schedulerTick(v: Vcpu): void {
    const t = v.current;
    if (t === v.idleTask) return;
    this.touch(v, KTEXT.schedA);
    if (--t.timeSlice <= 0) {
      t.timeSlice = this.timesliceTicks;
      v.rq.expire(t);
      v.needResched = true;
    }
  }

  // --- port I/O (PortIo) ---------------------------------------------------------------

  outb(port: number, value: number): void {
    const v = this.ioVcpu;
    if (port === IO_DELAY_PORT) {
      // slow_down_io(): the patch makes it a no-op in a KVM guest.
      if (this.paravirt) return;
      v.ioDelayWrites++;
      this.platform.portIo(v, port);
      return;
    }
    this.platform.portIo(v, port);
    if (PicPair.handlesPort(port)) this.pic.portWrite(port, value);
  }

  inb(port: number): number {
    this.platform.portIo(this.ioVcpu, port);
    return PicPair.handlesPort(port) ? this.pic.portRead(port) : 0;
  }

  /** inb_p: the read and the io delay. */
  private inbP(port: number): number {
    const r = this.inb(port);
    this.outb(IO_DELAY_PORT, 0);
    return r;
  }
}

