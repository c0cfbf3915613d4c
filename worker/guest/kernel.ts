/**
 * The guest kernel: a Linux 2.6.20-like i386 kernel reduced to what makes context
 * switches, cr3 loads, page-table writes and port I/O happen, split as Linux splits it
 * (mm/, sched/, ipc/, irq/, drivers/). This facade boots it on a machine and a platform
 * and is what workloads call: system calls on pipes and unix sockets block and wake
 * tasks; the O(1) scheduler picks who runs; a switch to another address space loads cr3
 * (through the paravirt cr3 cache in kvm-paravirt); the timer tick comes in through the
 * i8259A and is acknowledged with 2.6.20's port sequences; the idle loop executes HLT.
 *
 * Every guest operation charges its native cycles (times QEMU's slowdown under qemu)
 * and touches the pages it runs on and uses, through the vCPU's TLB; the platform
 * resolves the misses, traps and exits of the mode.
 */
import type { Costs } from '../../shared/costs.js';
import type { Rng } from '../../shared/rng.js';
import { newGroup, type StatsRegistry } from '../../shared/stats.js';
import type { Pc } from '../machine/pc.js';
import { ParaState } from '../hypervisor/kvm-para.js';
import type { Platform } from '../hypervisor/platform.js';
import type { RecordBus } from '../smp/bus.js';
import { GuestCpu } from './cpu.js';
import { loadDrivers, type Drivers } from './drivers/index.js';
import { SyscallEntry } from './entry.js';
import { CpuPortIo } from './io.js';
import { Ipc, type Channel } from './ipc/ipc.js';
import type { Pipe } from './ipc/pipe.js';
import { SkbSlab } from './ipc/skb.js';
import type { UnixStream } from './ipc/unix.js';
import type { WaitQueue } from './ipc/wait.js';
import { PIC_CASCADE_IR } from './irq/i8259.js';
import { Irq } from './irq/irq.js';
import { GuestTime, type Clocksource } from './irq/timer.js';
import { KTEXT, RESERVED_FRAMES, SKB_DATA_PER_PAGE, SKB_HEADS_PER_PAGE, SKB_SLAB_OBJECTS } from './layout.js';
import { MemoryManager } from './mm/mm.js';
import { PageAllocator } from './mm/page-alloc.js';
import { MmuContext } from './mm/mmu-context.js';
import { X64PageTables } from './mm/pgtable64.js';
import { TlbContext } from './mm/tlb-state.js';
import { LoadBalancer } from './sched/balance.js';
import { Scheduler } from './sched/core.js';
import { Processes, type SetupRole } from './sched/fork.js';
import { DEF_TIMESLICE_NS } from './sched/prio.js';
import { Task, type Mm } from './task.js';
import { emitEnd, M_END } from '../smp/records/end.js';

/** A task's user code: one step of its program (it advances `t.pc` when its system call completed). */
export type Program = (cpu: GuestCpu, t: Task) => void;

export interface KernelOptions {
  readonly hz: number;
  /** The paravirt patch's guest side: cr3 cache lookups, exit-free io delay, simplified PIC ack, no cr3 read to flush. */
  readonly paravirt: boolean;
  /** Entries of the cr3 cache (paravirt). */
  readonly cacheSize: number;
  /** Run the translation checker at every page-table teardown and page-directory free. */
  readonly check: boolean;
  /** sk_sndbuf of a unix socket (bytes). */
  readonly sndbuf: number;
  /** What update_wall_time reads every tick. */
  readonly clocksource: Clocksource;
  /** The ablation's extra flush after every switch_to(). */
  readonly extraFlush: 'none' | 'global' | 'both';
  /** The guest's paging: the study's i386 kernel, or an x86-64 one (Linux 4.15+ paths for PCID and PTI). */
  readonly arch: 'i386' | 'x86-64';
  /** x86-64: page-table isolation. */
  readonly pti: boolean;
  /** x86-64: the guest uses PCID. */
  readonly pcid: boolean;
  /** i386: a UP kernel whose local APIC timer ticks beside IRQ0. */
  readonly lapicTimer?: boolean;
}

export class Kernel {
  readonly cpus: readonly GuestCpu[];
  readonly pages: PageAllocator;
  readonly mm: MemoryManager;
  readonly sched: Scheduler;
  readonly procs: Processes;
  readonly ipc: Ipc;
  readonly irq: Irq;
  readonly time: GuestTime;
  /** The device drivers (drivers/index.ts). */
  readonly drivers: Drivers;
  readonly entry: SyscallEntry;
  /** With several vCPUs: the load balancer (null with one). */
  balancer: LoadBalancer | null = null;
  /** An x86-64 guest's ASIDs and page-table isolation (null for the i386 guest). */
  readonly tlbContext: TlbContext | null;
  /** The kernel's own address space (swapper_pg_dir), loaded at boot, borrowed by idle. */
  readonly initMm: Mm;
  /**
   * The workload's time marks (cycles): 'first' marks keep the earliest value recorded,
   * 'last' marks the latest, so that marks taken on different vCPUs combine.
   */
  readonly marks = new Float64Array(8).fill(NaN);
  /** 1 for a 'first' mark, 2 for a 'last' one (0: not recorded here). */
  readonly markKinds = new Float64Array(8);
  /** With several vCPUs: the records that connect them (null with one). */
  private bus: RecordBus | null = null;
  /** The workload has finished its measured part (finish()): the run is over. */
  ended = false;

  /** The programs tasks run, by exe index. */
  readonly programs: Program[] = [];
  private readonly exes = new Map<Program, number>();

  constructor(
    pc: Pc,
    readonly platform: Platform,
    readonly c: Costs,
    stats: StatsRegistry,
    rng: Rng,
    opts: KernelOptions,
  ) {
    this.pages = new PageAllocator(pc.mem, RESERVED_FRAMES, rng);
    this.cpus = pc.vcpus.map((v) => {
      const s = stats.vcpu(v.id);
      const io = new CpuPortIo(v, platform, pc.bus, opts.paravirt, s.guest);
      const para = opts.paravirt ? new ParaState(opts.cacheSize, s.cr3Cache) : null;
      return new GuestCpu(v, pc.lapics[v.id]!, platform, io, para, s.guest, s.mmu);
    });
    const cpus = this.cpus;
    // The paravirt guest registers each CPU's para_state page with the host first thing.
    for (const cpu of cpus) if (cpu.para !== null) platform.mmu.registerParaState(cpu.vcpu, cpu.para);
    const x64 = opts.arch === 'x86-64';
    const tlbContext = x64
      ? new TlbContext(
          c,
          cpus.length,
          cpus.map((cpu) => stats.vcpu(cpu.id).asid),
          opts.pcid,
          opts.pti,
          platform.pvm,
        )
      : null;
    this.tlbContext = tlbContext;
    this.entry = new SyscallEntry(c, tlbContext !== null && tlbContext.switchesAtEntry ? tlbContext : null);
    const cr = tlbContext ?? new MmuContext(c, opts.paravirt);
    const x64Options = tlbContext !== null ? { tables: new X64PageTables(pc.mem, this.pages, opts.pti, opts.pcid), pti: opts.pti, initContext: (mm: Mm) => tlbContext.initContext(mm) } : null;
    this.mm = new MemoryManager(pc.mem, this.pages, c, cr, opts.check, x64Options);
    // Every task, by pid - 1: the process table, filled by fork; the scheduler finds tasks in it.
    const tasks: Task[] = [];
    this.sched = new Scheduler(cpus, tasks, this.mm, cr, c, Math.max(1, Math.round((DEF_TIMESLICE_NS * opts.hz) / 1e9)), opts.hz, opts.extraFlush);
    this.procs = new Processes(tasks, cpus, this.mm, this.sched, this.entry, c);
    this.procs.freesTaskPages = x64;
    this.irq = new Irq(c, opts.paravirt);
    this.time = new GuestTime(cpus, this.irq, this.sched, this.entry, c, opts.hz, opts.clocksource, x64, opts.lapicTimer === true);
    if (tlbContext !== null && tlbContext.switchesAtEntry) {
      const entry = this.entry;
      this.sched.returnToUser = (cpu) => entry.toUser(cpu);
      this.irq.fromUser = (cpu) => entry.fromUser(cpu);
    }
    for (const cpu of cpus) cpu.rqVpn = this.mm.kernelPage();
    // The skbuff slab: room for every socket buffer of every group filled at once. Its
    // pages come from the page allocator when first needed, without a modelled clear_page:
    // a slab page that reuses a frame still shadowed (freed by an exited process) does not
    // take the traps its initialisation would. Rare, and left so.
    const slab = new SkbSlab(SKB_SLAB_OBJECTS, cpus.length, SKB_HEADS_PER_PAGE, SKB_DATA_PER_PAGE, this.mm);
    this.ipc = new Ipc(cpus, this.mm, this.sched, this.entry, c, slab, opts.sndbuf);
    this.initMm = this.mm.bootInitMm();
    for (const cpu of cpus) {
      if (tlbContext !== null) tlbContext.boot(cpu, this.initMm);
      else platform.mmu.loadCr3(cpu.vcpu, this.initMm.pdFrame, 0, false);
      cpu.activeMm = this.initMm;
      const idle = new Task(0, `swapper/${cpu.id}`, cpu.id, null, -1);
      idle.prio = 140;
      idle.kstackVpn = this.mm.kernelPage();
      idle.taskStructVpn = idle.kstackVpn;
      cpu.idle = idle;
      cpu.current = idle;
    }
    this.mm.localCpus = cpus;
    // init_8259A at boot, then the cascade (IRQ2), the timer (IRQ0) and the disk (IRQ14)
    // unmasked, through a vCPU whose cost the measured run does not see.
    const bootIo = new CpuPortIo(pc.bootVcpu, platform, pc.bus, opts.paravirt, newGroup('guest'));
    this.irq.pic.init(bootIo);
    this.irq.pic.enableIrq(bootIo, PIC_CASCADE_IR);
    this.time.boot(bootIo, pc.pit);
    this.drivers = loadDrivers({ irq: this.irq, sched: this.sched, entry: this.entry, c }, bootIo);
    this.write = this.ipc.write.bind(this.ipc);
    this.read = this.ipc.read.bind(this.ipc);
    this.poll = this.ipc.poll.bind(this.ipc);
    this.wait = this.procs.wait.bind(this.procs);
    this.exit = this.procs.exit.bind(this.procs);
    this.sleep = this.time.sleep.bind(this.time);
    const ide = this.drivers.ide;
    this.diskRead = ide.read.bind(ide);
    // A workload's wake-up is kernel work its task asks for (a system call of its own): from user mode, an entry.
    const entry = this.entry;
    this.wakeUpAll = (cpu, wq, sync) => {
      entry.fromUser(cpu);
      this.sched.wakeUpAll(cpu, wq, sync);
    };
    this.userWork = this.entry.userWork.bind(this.entry);
  }

  /** Several vCPUs run apart in quanta: the subsystems that own shared state exchange records on `bus`. */
  attachSmp(bus: RecordBus, balanceEvery: number): void {
    this.balancer = new LoadBalancer(bus, this.cpus, this.procs.tasks, this.c.clockHz, balanceEvery);
    this.bus = bus;
    bus.on(M_END, () => {
      this.ended = true;
    });
    this.sched.attachSmp(bus);
    this.procs.attachSmp(bus);
    this.ipc.attachSmp(bus);
    this.pages.attachSmp(bus, this.cpus.map((cpu) => cpu.vcpu));
    this.mm.localCpus = this.cpus.filter((cpu) => bus.isLocal(cpu.id));
  }

  // --- what the VM's loop calls (besides `programs` and `sched`) -----------------------

  get liveTasks(): number {
    return this.procs.liveTasks;
  }

  /** Is the run over: every task exited, or the workload finished? */
  get over(): boolean {
    return this.ended || this.procs.liveTasks === 0;
  }

  /** The CPU takes interrupt `vector`. */
  interrupt(cpu: GuestCpu, vector: number): void {
    this.irq.dispatch(cpu, vector);
  }

  /** The translation checker, when enabled: on `cpu`, or on every CPU this replica runs. */
  checkpoint(cpu?: GuestCpu): void {
    this.mm.checkpoint(cpu);
  }

  // --- what workloads call: set-up -------------------------------------------------

  /** pgd_alloc and the text/libc mappings of a new process (at run time on `cpu`). */
  createMm(cpu: GuestCpu | null = null): Mm {
    return this.mm.createMm(cpu);
  }

  /**
   * A task running `program`, made before the measured run as the benchmark's main
   * process (`main`) or one of its children (`child`) would have been (see
   * Processes.createTask); `threadIndex` >= 0 makes it a thread of `mm`.
   */
  createTask(name: string, mm: Mm, cpuId: number, program: Program, role: SetupRole = 'child', threadIndex = -1): Task {
    return this.procs.createTask(name, mm, cpuId, this.exeOf(program), role, threadIndex);
  }

  private exeOf(program: Program): number {
    let exe = this.exes.get(program);
    if (exe === undefined) {
      exe = this.programs.push(program) - 1;
      this.exes.set(program, exe);
    }
    return exe;
  }

  /** Make a task made at set-up runnable on its CPU. */
  start(t: Task): void {
    this.sched.start(t);
  }

  /** Park a new task on a wait queue, as if it had run up to a blocking call (see Scheduler.park). */
  park(t: Task, wq: WaitQueue<Task>, inSyscall: boolean, nonInteractive = false): void {
    this.sched.park(t, wq, inSyscall, nonInteractive);
  }

  newPipe(name: string, syncWake = false): Pipe {
    return this.ipc.newPipe(name, syncWake);
  }

  newUnixStream(name: string): UnixStream {
    return this.ipc.newUnixStream(name);
  }

  /** Map a user page (as exec/fork or a page fault would). */
  mapUser(mm: Mm, vpn: number, frame: number, writable: boolean, cpu: GuestCpu | null = null): void {
    this.mm.mapUser(mm, vpn, frame, writable, cpu);
  }

  /** A page from the page allocator; at run time (on `cpu`) cleared. */
  allocPage(cpu: GuestCpu | null = null): number {
    return this.mm.allocPage(cpu);
  }

  // --- what workloads call: at run time ---------------------------------------------
  // System calls return true when the call completed, false when the task went to sleep
  // (the program retries the same step when it runs again). They are the subsystems'
  // own methods, bound here (one call less on the hot path than a forwarding method).

  /** write(2) on a pipe or socket. */
  readonly write: (cpu: GuestCpu, t: Task, ch: Channel, len: number) => boolean;
  /** read(2) on a pipe or socket. */
  readonly read: (cpu: GuestCpu, t: Task, ch: Channel, len: number) => boolean;
  /** poll(2) for input without reading it. */
  readonly poll: (cpu: GuestCpu, t: Task, ch: Channel) => boolean;
  /** wait4 for any child. */
  readonly wait: (cpu: GuestCpu, t: Task) => boolean;
  /** exit(2). */
  readonly exit: (cpu: GuestCpu, t: Task) => void;
  /** nanosleep. */
  readonly sleep: (cpu: GuestCpu, t: Task, ns: number) => boolean;
  /** A read of one block that misses the page cache. */
  readonly diskRead: (cpu: GuestCpu, t: Task) => boolean;
  /** wake_up on a wait queue. */
  readonly wakeUpAll: (cpu: GuestCpu, wq: WaitQueue<Task>, sync: boolean) => void;
  /** User code between system calls. */
  readonly userWork: (cpu: GuestCpu, t: Task, cycles: number) => void;

  /**
   * The programs a workload's tasks may be forked to run, in the order given: with several
   * vCPUs a fork is copied into the other replicas by program number, so a workload that
   * forks at run time names its programs at set-up (the same numbers in every replica).
   */
  programsFirst(...programs: Program[]): void {
    for (const p of programs) this.exeOf(p);
  }

  /** getppid(2): lmbench's null system call (lat_syscall null): the entry and the way back, and nothing else. */
  nullSyscall(cpu: GuestCpu, t: Task): void {
    this.entry.enter(cpu, t);
  }

  /**
   * A user access to page `vpn` of `t`'s address space, not mapped yet: the CPU's #PF
   * (what the hypervisor makes of it first: MmuStrategy.guestFault), the kernel's fault
   * path (do_page_fault, handle_mm_fault, do_anonymous_page: a fresh page cleared and
   * mapped), the return, and the access again.
   */
  touchFresh(cpu: GuestCpu, t: Task, vpn: number): void {
    cpu.mmu.guestFault(cpu.vcpu, vpn);
    this.entry.fromUser(cpu);
    cpu.work(this.c.pageFault);
    cpu.touch(KTEXT.fault);
    cpu.touch(t.kstackVpn);
    this.mm.mapUser(t.mm!, vpn, this.mm.allocPage(cpu), true, cpu);
    this.entry.toUser(cpu);
    cpu.touch(vpn);
  }

  /** munmap(2) of private anonymous pages `vpns` of `t`'s address space. */
  munmap(cpu: GuestCpu, t: Task, vpns: readonly number[]): void {
    this.entry.enter(cpu, t);
    this.mm.unmapUser(cpu, t.mm!, vpns);
  }

  /** fork(): a new process running `program` (with `arg`: Task.arg), which runs first. */
  fork(cpu: GuestCpu, parent: Task, name: string, program: Program, arg = -1): Task {
    return this.procs.fork(cpu, parent, name, this.exeOf(program), arg);
  }

  /** pthread_create: a thread of the parent's address space running `program`, with stack `threadIndex` (and `arg`: Task.arg). */
  spawnThread(cpu: GuestCpu, parent: Task, name: string, program: Program, threadIndex: number, arg = -1): Task {
    return this.procs.spawnThread(cpu, parent, name, this.exeOf(program), threadIndex, arg);
  }

  /**
   * The workload's measured part starts now (hackbench's go): the statistics count from
   * here (with several vCPUs, from this quantum's end).
   */
  beginMeasurement(cpu: GuestCpu): void {
    this.onMeasurementStart?.(cpu);
  }

  /** What the VM does when the measured part starts (vm.ts). */
  onMeasurementStart: ((cpu: GuestCpu) => void) | null = null;

  /**
   * The workload's measured part is over and nothing after it counts (a benchmark's
   * harness stops its timer and kills its helpers): the run ends here with one vCPU, and
   * with several at the end of this quantum, in every replica alike (smp/records/end.ts).
   * Tasks still alive are left as they are.
   */
  finish(cpu: GuestCpu): void {
    if (this.bus === null) this.ended = true;
    else emitEnd(this.bus, cpu.vcpu);
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
}
