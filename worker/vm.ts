/**
 * One simulated VM: guest memory, the VM-wide shadow MMU and i8259A, the vCPUs, the
 * guest kernel and a workload, and the loop that runs them.
 *
 * vCPUs of one VM interleave by simulated time: the loop always steps the vCPU that is
 * furthest behind (a halted vCPU counts from the time it will wake), one guest
 * operation at a time, ties going to the lower vCPU id. A wake-up of a task on another
 * vCPU is a reschedule IPI taken there at the waker's time (or at the target's own
 * time, if that is later). The order of steps, and so the result, depends only on the
 * config and the seed.
 */
import { ConfigError, type SimConfig } from '../shared/config.js';
import { MODE_TRAITS } from '../shared/modes.js';
import { costValues, PROFILES, type Costs } from '../shared/costs.js';
import { EXIT_REASON, EXIT_REASON_NAMES } from '../shared/exits.js';
import { SCHEMA_VERSION, type ExitStats, type RunResult, type VcpuStats } from '../shared/stats.js';
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
  readonly mmu: ShadowMmu | null;
  readonly platform: Platform;
  readonly vcpus: Vcpu[];
  readonly kernel: Kernel;
  readonly workload: WorkloadRun;

  /** @param overrides costs replacing the profile's (calibration tries candidate values this way) */
  constructor(cfg: SimConfig, overrides: Partial<Costs> = {}) {
    this.cfg = cfg;
    const profile = PROFILES[cfg.profile];
    if (!profile) throw new Error(`unknown cost profile ${cfg.profile}`);
    this.c = { ...costValues(profile), ...overrides };
    const traits = MODE_TRAITS[cfg.mode];
    const rng = new Rng(cfg.seed);
    const frames = (cfg.memoryMiB * 1024 * 1024) / 4096;
    this.mem = new GuestMemory(frames, RESERVED_FRAMES, rng);
    this.mmu = traits.shadow === 'none' ? null : new ShadowMmu(cfg.mmuPages, frames);
    if (traits.emulated) this.platform = new QemuPlatform(this.mem, this.c);
    else if (traits.vmx) {
      this.platform = new KvmPlatform(this.mem, this.c, this.mmu!, {
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
    if (this.platform instanceof KvmPlatform) this.platform.attachVcpus(this.vcpus);
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
    } catch (err) {
      if (err instanceof GuestOutOfMemory) {
        throw new ConfigError('memoryMiB', cfg.memoryMiB, `more guest memory: ${cfg.tasks} tasks did not fit (${err.message})`);
      }
      throw err;
    }
    // The measured run starts now, from a booted guest.
    for (const v of this.vcpus) {
      v.resetCounters();
      v.nextTick = this.kernel.tickCycles;
    }
    this.mmu?.resetCounters();
  }

  /** Run the workload to its end. */
  run(): void {
    try {
      this.runLoop();
    } catch (err) {
      if (err instanceof ShadowPoolExhausted) {
        throw new ConfigError('mmuPages', this.cfg.mmuPages, `a shadow page pool larger than what the cr3 cache and the vCPUs pin (${err.message})`);
      }
      throw err;
    }
    this.kernel.checkpoint();
  }

  private runLoop(): void {
    const limit = MAX_SIMULATED_SECONDS * this.c.clockHz;
    const k = this.kernel;
    const vcpus = this.vcpus;
    if (vcpus.length === 1) {
      const v = vcpus[0]!;
      while (k.liveTasks > 0) {
        this.step(v);
        if (v.clock > limit) this.stuck();
      }
      return;
    }
    while (k.liveTasks > 0) {
      let best = vcpus[0]!;
      let bestKey = wakeKey(best);
      for (let i = 1; i < vcpus.length; i++) {
        const key = wakeKey(vcpus[i]!);
        if (key < bestKey) {
          best = vcpus[i]!;
          bestKey = key;
        }
      }
      this.step(best);
      if (best.clock > limit) this.stuck();
    }
  }

  private stuck(): never {
    throw new Error(`the run did not finish within ${MAX_SIMULATED_SECONDS} s of simulated time (${this.kernel.liveTasks} tasks left)`);
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

  /** The statistics of the finished run. */
  result(): RunResult {
    const hz = this.c.clockHz;
    const ns = (cycles: number) => (cycles / hz) * 1e9;
    const perVcpu: VcpuStats[] = this.vcpus.map((v) => ({
      vcpu: v.id,
      guestTimeNs: ns(v.clock),
      haltedNs: ns(v.haltedCycles),
      exits: exitStats([v], ns),
      cr3Cache: cr3Stats([v], this.cfg.cacheSize),
      tlb: { flushesFull: v.tlb.flushesFull, flushesNonGlobal: v.tlb.flushesNonGlobal, misses: v.tlb.misses },
      guest: {
        contextSwitches: v.contextSwitches,
        addressSpaceSwitches: v.addressSpaceSwitches,
        syscalls: v.syscalls,
        messages: v.messages,
        ioDelayWrites: v.ioDelayWrites,
        timerTicks: v.timerTicks,
      },
    }));
    const sum = (f: (s: VcpuStats) => number) => perVcpu.reduce((a, s) => a + f(s), 0);
    const clock = Math.max(...this.vcpus.map((v) => v.clock));
    const busy = this.vcpus.reduce((a, v) => a + v.clock - v.haltedCycles, 0);
    const mmu = this.mmu;
    return {
      schemaVersion: SCHEMA_VERSION,
      config: this.cfg,
      metric: this.workload.metric(),
      guestTimeNs: ns(clock),
      hostCpuUtilisation: busy / (clock * this.vcpus.length),
      exits: exitStats(this.vcpus, ns),
      cr3Cache: cr3Stats(this.vcpus, this.cfg.cacheSize),
      mmu: {
        shadowFaults: mmu?.shadowFaults ?? 0,
        pagesCreated: mmu?.pagesCreated ?? 0,
        pagesZapped: mmu?.pagesZapped ?? 0,
        pagesEvicted: mmu?.pagesEvicted ?? 0,
        ptWritesEmulated: mmu?.ptWritesEmulated ?? 0,
        checks: this.kernel.checks,
        staleTranslations: this.kernel.staleTranslations,
      },
      tlb: {
        flushesFull: sum((s) => s.tlb.flushesFull),
        flushesNonGlobal: sum((s) => s.tlb.flushesNonGlobal),
        misses: sum((s) => s.tlb.misses),
      },
      pic: { portReads: this.kernel.pic.portReads, portWrites: this.kernel.pic.portWrites, irqsDelivered: this.kernel.pic.irqsDelivered },
      guest: {
        contextSwitches: sum((s) => s.guest.contextSwitches),
        addressSpaceSwitches: sum((s) => s.guest.addressSpaceSwitches),
        syscalls: sum((s) => s.guest.syscalls),
        messages: sum((s) => s.guest.messages),
        ioDelayWrites: sum((s) => s.guest.ioDelayWrites),
        timerTicks: sum((s) => s.guest.timerTicks),
      },
      perVcpu,
    };
  }
}

/** When a vCPU next has something to do. */
function wakeKey(v: Vcpu): number {
  if (!v.halted) return v.clock;
  const wake = Math.min(v.nextTick, v.ipiAt, v.deviceIrqAt);
  return wake > v.clock ? wake : v.clock;
}

function exitStats(vcpus: readonly Vcpu[], ns: (c: number) => number): ExitStats {
  const byReason: ExitStats['byReason'] = {};
  let total = 0;
  for (const name of EXIT_REASON_NAMES) {
    const r = EXIT_REASON[name];
    let count = 0;
    let cycles = 0;
    for (const v of vcpus) {
      count += v.vmx.exitCount[r]!;
      cycles += v.vmx.exitCycles[r]!;
    }
    if (count > 0) byReason[name] = { count, ns: ns(cycles) };
    total += count;
  }
  return { total, byReason };
}

function cr3Stats(vcpus: readonly Vcpu[], size: number) {
  const s = { size, lookups: 0, hits: 0, misses: 0, fills: 0, evictions: 0 };
  for (const v of vcpus) {
    const p = v.para;
    if (!p) continue;
    s.lookups += p.lookups;
    s.hits += p.hits;
    s.misses += p.misses;
    s.fills += p.fills;
    s.evictions += p.evictions;
  }
  return s;
}

/** Build, run and report one config. */
export function simulate(cfg: SimConfig, overrides: Partial<Costs> = {}): RunResult {
  const vm = new Vm(cfg, overrides);
  vm.run();
  return vm.result();
}
