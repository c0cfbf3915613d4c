/**
 * One simulated VM: the machine (machine/pc.ts), the platform its mode builds
 * (hypervisor/modes.ts), the guest kernel booted on them (guest/kernel.ts) and a
 * workload, and the loop that runs them.
 *
 * One vCPU runs operation by operation to the end. Several vCPUs run in quanta of
 * simulated time (smp/partition.ts): every worker that runs some of them holds a
 * replica of the VM, built the same way from the config and the seed, and runs only its
 * own vCPUs from the first quantum on; the replicas exchange records at each quantum's
 * end (a task forked on one vCPU is copied into the others' replicas by its record).
 */
import { ConfigError } from '../shared/errors.js';
import type { SimConfig } from '../shared/config.js';
import { DEFAULT_MEMORY_MIB, MAX_MEMORY_MIB } from '../shared/config-fields.js';
import { costValues, PROFILES, type Costs } from '../shared/costs.js';
import { MODE_TRAITS } from '../shared/modes.js';
import { mergePartials, type VcpuPartial, type VmPartial } from '../shared/partial.js';
import { Rng } from '../shared/rng.js';
import { StatsRegistry, type RunResult } from '../shared/stats.js';
import type { GuestCpu } from './guest/cpu.js';
import { Kernel } from './guest/kernel.js';
import { SkbSlabExhausted } from './guest/ipc/skb.js';
import { GuestOutOfMemory } from './guest/mm/page-alloc.js';
import { ShadowPoolExhausted } from './hypervisor/kvm/shadow/pages.js';
import { modeEntry } from './hypervisor/modes.js';
import type { Platform } from './hypervisor/platform.js';
import { QemuHostAlarm } from './hypervisor/qemu-alarm.js';
import { Pc } from './machine/pc.js';
import { FROM_IPI, type InterruptEntry, type Vcpu } from './machine/vcpu.js';
import { RecordBus } from './smp/bus.js';
import type { Inbox } from './smp/msgbuf.js';
import { emitBegin, M_BEGIN } from './smp/records/begin.js';
import { Partition, runSplit, type Replica } from './smp/partition.js';
import { WORKLOAD_BUILDERS } from './workloads/index.js';
import type { WorkloadRun } from './workloads/workload.js';

/** A run that does not finish within this much simulated time is a model bug. */
const MAX_SIMULATED_SECONDS = 3600;

export class Vm implements Replica {
  readonly cfg: SimConfig;
  readonly c: Costs;
  readonly stats = new StatsRegistry();
  readonly pc: Pc;
  readonly platform: Platform;
  readonly kernel: Kernel;
  readonly workload: WorkloadRun;
  /** The guest CPUs this replica runs (all of them unless the VM is split between workers). */
  readonly local: readonly GuestCpu[];
  /** Cycles of simulated time per quantum. */
  readonly quantumCycles: number;
  /** Simulated cycles after which a run is a model bug. */
  readonly limitCycles: number;
  private readonly smpBus: RecordBus | null = null;
  /** The measured part has begun and the statistics restart at the quantum's end. */
  private startPending = false;
  /** Each vCPU's clock and halted cycles when the statistics began. */
  private readonly clockFrom: Float64Array;
  private readonly haltedFrom: Float64Array;
  /** QEMU's host alarm (the qemu and KVM modes). */
  private readonly hostAlarm: QemuHostAlarm | null = null;

  /**
   * @param overrides costs replacing the profile's (calibration tries candidate values this way)
   * @param local ids of the vCPUs this replica runs (all by default)
   */
  constructor(cfg: SimConfig, overrides: Partial<Costs> = {}, local?: readonly number[]) {
    this.cfg = cfg;
    const profile = PROFILES[cfg.profile];
    if (!profile) throw new Error(`unknown cost profile ${cfg.profile}`);
    const c = (this.c = { ...costValues(profile, cfg.mitigations), ...overrides });
    this.quantumCycles = Math.max(1, Math.round((cfg.quantum * c.clockHz) / 1e6));
    this.limitCycles = MAX_SIMULATED_SECONDS * c.clockHz;
    const traits = MODE_TRAITS[cfg.mode];
    const mode = modeEntry(traits, cfg, c);
    const stats = this.stats;
    for (let id = 0; id < cfg.vcpus; id++) {
      stats.vcpu(id).cr3Cache.size = cfg.cacheSize;
      stats.vcpu(id).roots.size = cfg.prevRoots;
    }
    const tlb = mode.tlb;
    this.pc = new Pc({
      frames: (cfg.memoryMiB * 1024 * 1024) / 4096,
      vcpus: cfg.vcpus,
      tlbEntries: tlb.entries,
      tlbWays: tlb.ways,
      cr3Targets: mode.cr3Targets,
      stlb: mode.stlb,
      walker: mode.walker,
      diskServiceCycles: Math.round((c.diskServiceNs * c.clockHz) / 1e9),
      clockHz: c.clockHz,
      stats,
    });
    const platform = (this.platform = mode.build({ cfg, c, mem: this.pc.mem, vcpus: this.pc.vcpus, stats, ...(local ? { local } : {}) }));
    const kernel = (this.kernel = new Kernel(this.pc, platform, c, stats, new Rng(cfg.seed), {
      hz: cfg.hz,
      paravirt: traits.paravirt,
      cacheSize: cfg.cacheSize,
      check: cfg.check || cfg.workload === 'pgdreuse',
      sndbuf: cfg.sndbuf,
      clocksource: cfg.clocksource,
      extraFlush: cfg.extraFlush,
      arch: cfg.arch,
      pti: cfg.kpti,
      pcid: cfg.pcid,
      lapicTimer: cfg.lapicTimer,
    }));
    // An interrupt: the platform injects it, then the guest's IDT entry runs.
    for (const v of this.pc.vcpus) v.entry = new GuestInterrupt(platform, kernel, kernel.cpus[v.id]!);
    // QEMU's host alarm, on the vCPU whose PIT QEMU emulates; the PIT's edges on its grid.
    if (mode.hostAlarmHz > 0) {
      const vcpu0 = this.pc.vcpus[0]!;
      this.hostAlarm = new QemuHostAlarm(vcpu0, c.clockHz / mode.hostAlarmHz, (w, wasHalted) => platform.hostAlarm(w, wasHalted));
      this.pc.pit.grid = this.hostAlarm.period;
      for (const a of this.pc.lapics) a.grid = this.hostAlarm.period;
    }
    this.local = local ? kernel.cpus.filter((cpu) => local.includes(cpu.id)) : kernel.cpus;
    this.clockFrom = new Float64Array(cfg.vcpus);
    this.haltedFrom = new Float64Array(cfg.vcpus);
    try {
      this.workload = WORKLOAD_BUILDERS[cfg.workload](kernel, cfg);
      if (cfg.vcpus > 1) kernel.pages.splitFree(cfg.vcpus);
    } catch (err) {
      if (err instanceof GuestOutOfMemory) throw outOfMemory(cfg, `the workload's tasks did not fit (${err.message})`);
      throw err;
    }
    if (cfg.vcpus > 1) {
      const bus = (this.smpBus = new RecordBus(cfg.vcpus, this.local.map((cpu) => cpu.id)));
      platform.mmu.attachSmp(bus);
      // rebalance_tick: a busy vCPU balances about once per timer tick.
      kernel.attachSmp(bus, Math.max(1, Math.round(kernel.time.tickCycles / this.quantumCycles)));
      kernel.mm.localCpus = this.local;
      bus.on(M_BEGIN, () => {
        this.startPending = true;
      });
      // What the other replicas' vCPUs hold is theirs: let go of it here.
      bus.setLocal(this.local.map((cpu) => cpu.id));
    }
    // The run starts now, from a booted guest: counters at zero, TLB and caches warm. A
    // workload that starts its measured part later (hackbench, once it has forked its
    // children) restarts them then: at once with one vCPU, at that quantum's end (in every
    // replica) with several.
    kernel.onMeasurementStart = (cpu) => {
      if (cfg.vcpus === 1) this.startStatistics();
      else emitBegin(this.bus, cpu.vcpu);
    };
    stats.reset();
    this.pc.startMeasuredRun();
    this.hostAlarm?.start(0);
  }

  /** The statistics count from now: counters and exits at zero, times from each vCPU's clock. */
  private startStatistics(): void {
    this.stats.reset();
    for (const v of this.pc.vcpus) {
      v.vmx.resetExits();
      this.clockFrom[v.id] = v.clock;
      this.haltedFrom[v.id] = v.haltedCycles;
    }
  }

  /** Run the workload to its end (all vCPUs, in this thread). */
  run(): void {
    if (this.cfg.vcpus === 1) {
      this.guard(() => this.runOne());
      this.kernel.checkpoint();
      return;
    }
    new Partition(this).run();
  }

  /**
   * A VM of one vCPU, run in slices (live control answers between them): up to `steps`
   * more steps; true when the run is over. The same steps as run(), however sliced.
   */
  runOneFor(steps: number): boolean {
    const k = this.kernel;
    const cpu = k.cpus[0]!;
    const limit = this.limitCycles;
    this.guard(() => {
      for (let i = 0; i < steps && !k.over; i++) {
        this.step(cpu);
        if (cpu.vcpu.clock > limit) this.stuck();
      }
    });
    if (!k.over) return false;
    k.checkpoint();
    return true;
  }

  /** Simulated cycles: the furthest local vCPU's clock since boot, and since the statistics began. */
  clocks(): { cycles: number; measured: number } {
    let cycles = 0;
    let measured = 0;
    for (const cpu of this.local) {
      const v = cpu.vcpu;
      cycles = Math.max(cycles, v.clock);
      measured = Math.max(measured, v.clock - this.clockFrom[v.id]!);
    }
    return { cycles, measured };
  }

  /** Turn a full shadow pool or guest memory into the config error it is. */
  guard<T>(f: () => T): T {
    try {
      return f();
    } catch (err) {
      if (err instanceof ShadowPoolExhausted) {
        throw new ConfigError('mmuPages', this.cfg.mmuPages, `a shadow page pool larger than what the cr3 cache and the vCPUs pin (${err.message})`);
      }
      if (err instanceof GuestOutOfMemory) throw outOfMemory(this.cfg, `the run ran out (${err.message})`);
      if (err instanceof SkbSlabExhausted) {
        // Every sender fills its socket (sndbuf / truesize skbs) before its receiver runs: what is in flight grows with the senders a vCPU runs.
        const field = this.cfg.workload === 'hackbench' ? 'groups' : 'tasks';
        const value = this.cfg[field];
        throw new ConfigError(field, value, `fewer senders per vCPU: a smaller --${field}, or more --vcpus`, `${value} queues more socket buffers than a vCPU holds (${err.message}); expected fewer senders per vCPU: a smaller --${field}, or more --vcpus`);
      }
      throw err;
    }
  }

  private runOne(): void {
    const limit = this.limitCycles;
    const k = this.kernel;
    const cpu = k.cpus[0]!;
    while (!k.over) {
      this.step(cpu);
      if (cpu.vcpu.clock > limit) this.stuck();
    }
  }

  /** Run `cpu` up to cycle `end` of a quantum (a halted vCPU whose wake-up is later sits in HLT to `end`). */
  private runUntil(cpu: GuestCpu, end: number): void {
    const v = cpu.vcpu;
    for (;;) {
      if (v.halted) {
        if (v.events.next() >= end) {
          if (v.clock < end) {
            v.haltedCycles += end - v.clock;
            v.clock = end;
          }
          return;
        }
      } else if (v.clock >= end) return;
      this.step(cpu);
    }
  }

  /** One step of a CPU: sleep to the next event if halted, take the interrupts due, then the guest's step (Scheduler.step). */
  private step(cpu: GuestCpu): void {
    const v = cpu.vcpu;
    const wasHalted = v.halted;
    if (wasHalted) {
      const wake = v.events.next();
      if (wake > v.clock) {
        v.haltedCycles += wake - v.clock;
        v.clock = wake;
      }
    }
    v.events.fireDue(v, wasHalted);
    // Only the host saw the event (QEMU's alarm) or the PIC masked the line: still in HLT.
    if (v.halted) return;
    this.kernel.sched.step(cpu, this.kernel.programs);
  }

  stuck(): never {
    throw new Error(`the run did not finish within ${MAX_SIMULATED_SECONDS} s of simulated time (${this.kernel.liveTasks} tasks left)`);
  }

  // --- a replica of a multi-vCPU VM (smp/partition.ts) ------------------------------

  get bus(): RecordBus {
    if (this.smpBus === null) throw new Error('a VM of one vCPU has no quanta');
    return this.smpBus;
  }

  exitedHere(): number {
    return this.kernel.procs.exitedHere;
  }

  /** The workload finished its measured part (Kernel.finish), as merged records tell. */
  get ended(): boolean {
    return this.kernel.ended;
  }

  taskCount(): number {
    return this.kernel.procs.tasks.length;
  }

  runLocalUntil(end: number): void {
    this.guard(() => {
      for (const cpu of this.local) this.runUntil(cpu, end);
    });
  }

  deliver(inbox: Inbox): void {
    this.guard(() => this.bus.deliver(inbox));
  }

  rebalance(n: number): void {
    this.kernel.balancer!.balance(n);
    if (this.startPending) {
      this.startPending = false;
      this.startStatistics();
    }
  }

  finalCheck(): void {
    this.kernel.checkpoint();
  }

  get marks(): Float64Array {
    return this.kernel.marks;
  }

  get markKinds(): Float64Array {
    return this.kernel.markKinds;
  }

  markFirst(i: number, cycles: number): void {
    this.kernel.markFirst(i, cycles);
  }

  markLast(i: number, cycles: number): void {
    this.kernel.markLast(i, cycles);
  }

  // --- statistics ---------------------------------------------------------------------

  /** The statistics of this replica's vCPUs; `marks` are the workload's marks of the whole VM. */
  partial(marks: Float64Array = this.kernel.marks): VmPartial {
    const vcpus: VcpuPartial[] = this.local.map((cpu) => {
      const v = cpu.vcpu;
      return {
        id: v.id,
        clock: v.clock - this.clockFrom[v.id]!,
        halted: v.haltedCycles - this.haltedFrom[v.id]!,
        exitCount: Array.from(v.vmx.exitCount),
        exitCycles: Array.from(v.vmx.exitCycles),
        exitTimes: v.vmx.times.snapshot(v.clock),
        ...this.stats.vcpuSnapshot(v.id),
      };
    });
    const hasBoot = this.local.some((cpu) => cpu.id === 0);
    return {
      vcpus,
      vm: hasBoot ? this.stats.vmSnapshot() : null,
      metric: hasBoot ? this.workload.metric(marks) : null,
    };
  }

  /** The statistics of the finished run (every vCPU ran here). */
  result(): RunResult {
    return mergePartials(this.cfg, this.c.clockHz, [this.partial()]);
  }
}

/** A vCPU's interrupt (Vcpu.entry): the platform injects it, then the guest's IDT entry runs. */
class GuestInterrupt implements InterruptEntry {
  constructor(
    private readonly platform: Platform,
    private readonly kernel: Kernel,
    private readonly cpu: GuestCpu,
  ) {}

  take(w: Vcpu, vector: number, from: number, wasHalted: boolean): void {
    if (from === FROM_IPI) this.platform.ipiArrival(w, wasHalted);
    else this.platform.irqArrival(w, wasHalted, from);
    w.halted = false;
    this.kernel.interrupt(this.cpu, vector);
  }
}

/**
 * Build, run and report one config with its vCPUs split between replicas run in turn in
 * this thread (placement[r]: the vCPU ids of replica r). The same statistics as
 * simulate(), by construction; tests use it to show that placement does not matter.
 */
export function simulateSplit(cfg: SimConfig, placement: readonly (readonly number[])[], overrides: Partial<Costs> = {}): RunResult {
  let c = 0;
  const parts = runSplit((local) => {
    const vm = new Vm(cfg, overrides, local);
    c = vm.c.clockHz;
    return vm;
  }, placement);
  return mergePartials(cfg, c, parts);
}

/** Build, run and report one config. */
export function simulate(cfg: SimConfig, overrides: Partial<Costs> = {}): RunResult {
  const vm = new Vm(cfg, overrides);
  vm.run();
  return vm.result();
}

/**
 * The guest ran out of memory: a ConfigError naming --memory, whether it was given, and a
 * value to try (twice as much, in 128 MiB steps, at most the limit); with several vCPUs a
 * shorter quantum is the other way (writers on every vCPU can each fill a socket within one).
 */
function outOfMemory(cfg: SimConfig, what: string): ConfigError {
  const max = MAX_MEMORY_MIB;
  const given = cfg.memoryMiB === DEFAULT_MEMORY_MIB ? `${cfg.memoryMiB} MiB (the default)` : `${cfg.memoryMiB} MiB`;
  const next = Math.min(max, Math.ceil((cfg.memoryMiB * 2) / 128) * 128);
  const smp = cfg.vcpus > 1 ? `, or a shorter --quantum than ${cfg.quantum} us (writers on every vCPU can each fill a socket within one)` : '';
  const allowed = cfg.memoryMiB < max ? `more guest memory: try --memory ${next} (at most ${max})${smp}` : `a smaller workload: ${max} MiB is the most a guest has${smp}`;
  return new ConfigError('memoryMiB', cfg.memoryMiB, allowed, `guest memory of ${given} is too small: ${what}; ${allowed.replace(/^more guest memory: /, '')}`);
}
