/**
 * The statistics of part of a VM (the vCPUs one worker ran), and how parts combine into
 * one run's result. Sums go in vCPU order, so the result is the same however the vCPUs
 * were split between workers.
 */
import type { SimConfig } from './config.js';
import { EXIT_REASON, EXIT_REASON_NAMES } from './exits.js';
import { SCHEMA_VERSION, sumGroups, type Cr3CacheStats, type ExitStats, type GuestStats, type MetricStats, type MmuStats, type PicStats, type RunResult, type TlbStats, type VcpuStats } from './stats.js';

/** One vCPU's counters, in cycles where they are times. */
export interface VcpuPartial {
  id: number;
  clock: number;
  halted: number;
  exitCount: number[];
  exitCycles: number[];
  cr3Cache: Cr3CacheStats;
  tlb: TlbStats;
  guest: GuestStats;
  mmu: MmuStats;
}

export interface VmPartial {
  vcpus: VcpuPartial[];
  /** The i8259A's counters, from the part that ran vCPU 0 (the PIC's CPU). */
  pic: PicStats | null;
  /** The workload's figure, from the part that ran vCPU 0 (all parts' time marks combined). */
  metric: MetricStats | null;
}

export function mergePartials(cfg: SimConfig, clockHz: number, parts: readonly VmPartial[]): RunResult {
  const ns = (cycles: number) => (cycles / clockHz) * 1e9;
  const vcpus = parts.flatMap((p) => p.vcpus).sort((a, b) => a.id - b.id);
  if (vcpus.length !== cfg.vcpus) throw new Error(`results of ${vcpus.length} vCPUs for a VM of ${cfg.vcpus}`);
  const pic = parts.find((p) => p.pic !== null)?.pic;
  const metric = parts.find((p) => p.metric !== null)?.metric;
  if (!pic || !metric) throw new Error('no part of the VM ran vCPU 0');
  const perVcpu: VcpuStats[] = vcpus.map((v) => ({
    vcpu: v.id,
    guestTimeNs: ns(v.clock),
    haltedNs: ns(v.halted),
    exits: exitStats([v], ns),
    cr3Cache: v.cr3Cache,
    tlb: v.tlb,
    guest: v.guest,
    mmu: v.mmu,
  }));
  const clock = Math.max(...vcpus.map((v) => v.clock));
  const busy = vcpus.reduce((a, v) => a + v.clock - v.halted, 0);
  // The checker's figure is the worst any one vCPU's shard showed, summed over vCPUs.
  const mmu = sumGroups('mmu', vcpus.map((v) => v.mmu));
  return {
    schemaVersion: SCHEMA_VERSION,
    config: cfg,
    metric,
    guestTimeNs: ns(clock),
    hostCpuUtilisation: busy / (clock * vcpus.length),
    exits: exitStats(vcpus, ns),
    cr3Cache: sumGroups('cr3Cache', vcpus.map((v) => v.cr3Cache)),
    mmu,
    tlb: sumGroups('tlb', vcpus.map((v) => v.tlb)),
    pic,
    guest: sumGroups('guest', vcpus.map((v) => v.guest)),
    perVcpu,
  };
}

function exitStats(vcpus: readonly VcpuPartial[], ns: (c: number) => number): ExitStats {
  const byReason: ExitStats['byReason'] = {};
  let total = 0;
  for (const name of EXIT_REASON_NAMES) {
    const r = EXIT_REASON[name];
    let count = 0;
    let cycles = 0;
    for (const v of vcpus) {
      count += v.exitCount[r]!;
      cycles += v.exitCycles[r]!;
    }
    if (count > 0) byReason[name] = { count, ns: ns(cycles) };
    total += count;
  }
  return { total, byReason };
}
