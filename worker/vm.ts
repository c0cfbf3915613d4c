/**
 * One simulated VM: guest memory, the shadow MMU and i8259A, the vCPUs, the guest
 * kernel and a workload, and the loop that runs them.
 *
 * One vCPU runs operation by operation to the end. Several vCPUs run in quanta of
 * simulated time (smp/partition.ts): every worker that runs some of them holds a
 * replica of the whole VM, built the same way from the config and the seed, and runs
 * only its own vCPUs; the replicas exchange messages at each quantum's end.
 */
import { ConfigError, type SimConfig } from '../shared/config.js';
import { MODE_TRAITS } from '../shared/modes.js';
import { costValues, PROFILES, type Costs } from '../shared/costs.js';
import type { RunResult } from '../shared/stats.js';
import { mergePartials, type VcpuPartial, type VmPartial } from '../shared/partial.js';
import { GuestMemory, GuestOutOfMemory } from './memory.js';
import { ShadowMmu, ShadowPoolExhausted } from './mmu/shadow.js';
import { Rng } from './rng.js';
import { Vcpu } from './vcpu.js';
import { Kernel } from './guest/kernel.js';
import { TASK_RUNNING } from './guest/task.js';
import { RESERVED_FRAMES } from './guest/layout.js';
import { NS_MAX_SLEEP_AVG, MAX_BONUS } from './guest/sched.js';
import type { Platform } from './platform/platform.js';
import { NativePlatform } from './platform/native.js';
import { QemuPlatform } from './platform/qemu.js';
import { KvmPlatform } from './platform/kvm.js';
import { WORKLOAD_BUILDERS } from './workloads/index.js';
import type { WorkloadRun } from './workloads/workload.js';
import { GuestSmp } from './guest/smp.js';
import { Partition, runSplit } from './smp/partition.js';

/** A run that does not finish within this much simulated time is a model bug. */
const MAX_SIMULATED_SECONDS = 3600;

/**
 * The interactivity bonus a benchmark's tasks start with. The shell that starts the
 * benchmark sleeps on the terminal, so it sits at the INTERACTIVE_SLEEP ceiling (bonus 8);
 * fork gives a child CURRENT_BONUS * CHILD_PENALTY (95) / 100 in whole steps: the
 * benchmark's main process 7, the tasks it forks 6.
 */
const CHILD_BONUS = Math.floor((Math.floor((8 * 95) / 100) * 95) / 100);

export class Vm {
  readonly cfg: SimConfig;
  readonly c: Costs;
  readonly mem: GuestMemory;
  readonly platform: Platform;
  readonly vcpus: Vcpu[];
  readonly kernel: Kernel;
  readonly workload: WorkloadRun;
  /** vCPUs this replica runs (all of them unless the VM is split between workers). */
  readonly local: readonly Vcpu[];

  /**
   * @param overrides costs replacing the profile's (calibration tries candidate values this way)
   * @param local ids of the vCPUs this replica runs (all by default)
   */
  constructor(cfg: SimConfig, overrides: Partial<Costs> = {}, local?: readonly number[]) {
    this.cfg = cfg;
    const profile = PROFILES[cfg.profile];
    if (!profile) throw new Error(`unknown cost profile ${cfg.profile}`);
    this.c = { ...costValues(profile), ...overrides };
    const traits = MODE_TRAITS[cfg.mode];
    const rng = new Rng(cfg.seed);
    const frames = (cfg.memoryMiB * 1024 * 1024) / 4096;
    this.mem = new GuestMemory(frames, RESERVED_FRAMES, rng);
    if (traits.emulated) this.platform = new QemuPlatform(this.mem, this.c);
    else if (traits.vmx) {
      this.platform = new KvmPlatform(this.mem, this.c, {
        shadow: traits.shadow as 'discard' | 'cached',
        paravirt: traits.paravirt,
        pinnedRootFix: cfg.pinnedRootFix,
        exitFlush: cfg.exitFlush,
      });
    }
    else this.platform = new NativePlatform(this.mem, this.c);
    const cacheSize = traits.paravirt ? cfg.cacheSize : null;
    const mkVcpu = (id: number) => new Vcpu(id, this.platform.tlbEntries, this.platform.tlbWays, cacheSize);
    this.vcpus = Array.from({ length: cfg.vcpus }, (_, i) => mkVcpu(i));
    if (traits.shadow !== 'none') for (const v of this.vcpus) v.mmu = new ShadowMmu(cfg.mmuPages, frames);
    if (this.platform instanceof KvmPlatform) this.platform.attachVcpus(this.vcpus);
    this.local = local ? this.vcpus.filter((v) => local.includes(v.id)) : this.vcpus;
    this.kernel = new Kernel(
      this.mem,
      this.platform,
      this.c,
      this.vcpus,
      {
        hz: cfg.hz,
        paravirt: traits.paravirt,
        initialSleepAvgNs: (CHILD_BONUS * NS_MAX_SLEEP_AVG) / MAX_BONUS,
        check: cfg.check || cfg.workload === 'pgdreuse',
        sndbuf: cfg.sndbuf,
      },
      mkVcpu(-1),
    );
    try {
      this.workload = WORKLOAD_BUILDERS[cfg.workload](this.kernel, cfg);
      if (cfg.vcpus > 1) this.mem.splitFree(cfg.vcpus);
    } catch (err) {
      if (err instanceof GuestOutOfMemory) {
        throw new ConfigError('memoryMiB', cfg.memoryMiB, `more guest memory: ${cfg.tasks} tasks did not fit (${err.message})`);
      }
      throw err;
    }
    if (cfg.vcpus > 1) {
      const kvm = this.platform instanceof KvmPlatform ? this.platform : null;
      // rebalance_tick: a busy vCPU balances about once per timer tick.
      const quantumCycles = this.quantumCycles();
      const every = Math.max(1, Math.round(this.kernel.tickCycles / quantumCycles));
      this.kernel.smp = new GuestSmp(this.kernel, this.local.map((v) => v.id), kvm, every);
      kvm?.attachSmp(this.kernel.smp);
    }
    // The measured run starts now, from a booted guest.
    for (const v of this.vcpus) {
      v.resetCounters();
      v.mmu?.resetCounters();
      v.nextTick = this.kernel.tickCycles;
    }
  }

  /** Cycles of simulated time per quantum. */
  quantumCycles(): number {
    return Math.max(1, Math.round((this.cfg.quantum * this.c.clockHz) / 1e6));
  }

  /** Run the workload to its end (all vCPUs, in this thread). */
  run(): void {
    if (this.vcpus.length === 1) {
      this.guard(() => this.runOne());
      this.kernel.checkpoint();
      return;
    }
    new Partition(this).run();
  }

  /** Turn a full shadow pool or guest memory into the config error it is. */
  guard<T>(f: () => T): T {
    try {
      return f();
    } catch (err) {
      if (err instanceof ShadowPoolExhausted) {
        throw new ConfigError('mmuPages', this.cfg.mmuPages, `a shadow page pool larger than what the cr3 cache and the vCPUs pin (${err.message})`);
      }
      if (err instanceof GuestOutOfMemory) {
        const smp = this.cfg.vcpus > 1 ? `, or a shorter quantum than ${this.cfg.quantum} us (writers on every vCPU can each fill a socket within one)` : '';
        throw new ConfigError('memoryMiB', this.cfg.memoryMiB, `more guest memory${smp}: the run ran out (${err.message})`);
      }
      throw err;
    }
  }

  private runOne(): void {
    const limit = MAX_SIMULATED_SECONDS * this.c.clockHz;
    const k = this.kernel;
    const v = this.vcpus[0]!;
    while (k.liveTasks > 0) {
      this.step(v);
      if (v.clock > limit) this.stuck();
    }
  }

  /** Run vCPU v up to cycle `end` of a quantum (a halted vCPU whose wake-up is later sits in HLT to `end`). */
  runUntil(v: Vcpu, end: number): void {
    for (;;) {
      if (v.halted) {
        const wake = Math.min(v.nextTick, v.ipiAt, v.deviceIrqAt);
        if (wake >= end) {
          if (v.clock < end) {
            v.haltedCycles += end - v.clock;
            v.clock = end;
          }
          return;
        }
      } else if (v.clock >= end) return;
      this.step(v);
    }
  }

  stuck(): never {
    throw new Error(`the run did not finish within ${MAX_SIMULATED_SECONDS} s of simulated time (${this.kernel.liveTasks} tasks left)`);
  }

  /** Simulated cycles after which a run is a model bug. */
  get limitCycles(): number {
    return MAX_SIMULATED_SECONDS * this.c.clockHz;
  }

  /** One step of a vCPU: take pending interrupts, reschedule if asked, run one operation of the current task. */
  private step(v: Vcpu): void {
    const k = this.kernel;
    const wasHalted = v.halted;
    if (wasHalted) {
      const wake = Math.min(v.nextTick, v.ipiAt, v.deviceIrqAt);
      if (wake > v.clock) {
        v.haltedCycles += wake - v.clock;
        v.clock = wake;
      }
      v.halted = false;
    }
    let woken = false;
    if (v.ipiAt <= v.clock) {
      v.ipiAt = Infinity;
      k.rescheduleInterrupt(v, wasHalted);
      woken = true;
    }
    if (v.deviceIrqAt <= v.clock) {
      k.diskInterrupt(v, wasHalted && !woken);
      woken = true;
    }
    if (v.clock >= v.nextTick) {
      k.timerInterrupt(v, wasHalted && !woken);
      do v.nextTick += k.tickCycles;
      while (v.nextTick <= v.clock);
    }
    if (v.needResched) k.schedule(v);
    const t = v.current;
    if (t === v.idleTask) {
      if (v.rq.nrRunning > 0) k.schedule(v);
      else k.idle(v);
      return;
    }
    t.program(k, v, t);
    if (t.state !== TASK_RUNNING || v.needResched) k.schedule(v);
  }

  /** The statistics of this replica's vCPUs; `marks` are the workload's marks of the whole VM. */
  partial(marks: Float64Array = this.kernel.marks): VmPartial {
    const k = this.kernel;
    const vcpus: VcpuPartial[] = this.local.map((v) => {
      const p = v.para;
      const mmu = v.mmu;
      return {
        id: v.id,
        clock: v.clock,
        halted: v.haltedCycles,
        exitCount: Array.from(v.vmx.exitCount),
        exitCycles: Array.from(v.vmx.exitCycles),
        cr3Cache: {
          size: this.cfg.cacheSize,
          lookups: p?.lookups ?? 0,
          hits: p?.hits ?? 0,
          misses: p?.misses ?? 0,
          fills: p?.fills ?? 0,
          evictions: p?.evictions ?? 0,
        },
        tlb: { flushesFull: v.tlb.flushesFull, flushesNonGlobal: v.tlb.flushesNonGlobal, misses: v.tlb.misses },
        guest: {
          contextSwitches: v.contextSwitches,
          addressSpaceSwitches: v.addressSpaceSwitches,
          syscalls: v.syscalls,
          messages: v.messages,
          ioDelayWrites: v.ioDelayWrites,
          timerTicks: v.timerTicks,
          migrations: v.migrations,
        },
        mmu: {
          shadowFaults: mmu?.shadowFaults ?? 0,
          pagesCreated: mmu?.pagesCreated ?? 0,
          pagesZapped: mmu?.pagesZapped ?? 0,
          pagesEvicted: mmu?.pagesEvicted ?? 0,
          ptWritesEmulated: mmu?.ptWritesEmulated ?? 0,
          checks: k.checksBy[v.id]!,
          staleTranslations: k.staleBy[v.id]!,
        },
      };
    });
    const hasBoot = this.local.some((v) => v.id === 0);
    return {
      vcpus,
      pic: hasBoot ? { portReads: k.pic.portReads, portWrites: k.pic.portWrites, irqsDelivered: k.pic.irqsDelivered } : null,
      metric: hasBoot ? this.workload.metric(marks) : null,
    };
  }

  /** The statistics of the finished run (every vCPU ran here). */
  result(): RunResult {
    return mergePartials(this.cfg, this.c.clockHz, [this.partial()]);
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
