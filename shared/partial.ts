/**
 * The statistics of part of a VM (the vCPUs one worker ran), and how parts combine into
 * one run's result. Sums go in vCPU order, so the result is the same however the vCPUs
 * were split between workers.
 */
import type { SimConfig } from './config.js';
import { exitDetail, type ExitTimesSnapshot } from './exit-detail.js';
import { EXIT_REASON, EXIT_REASON_NAMES } from './exits.js';
import { groupApplies, SCHEMA_VERSION, sumGroups, TOTALS_ORDER, VCPU_GROUPS, type ExitStats, type GroupStats, type MetricStats, type RunResult, type StatGroupName, type VcpuGroups, type VcpuStats, type VmGroups } from './stats.js';

/** One vCPU's counters, in cycles where they are times. */
export type VcpuPartial = {
  id: number;
  clock: number;
  halted: number;
  exitCount: number[];
  exitCycles: number[];
  /** Each exit's time (machine/exit-times.ts). */
  exitTimes: ExitTimesSnapshot;
} & VcpuGroups;

export interface VmPartial {
  vcpus: VcpuPartial[];
  /** The VM's own groups (the i8259A's counters), from the part that ran vCPU 0 (the PIC's CPU). */
  vm: VmGroups | null;
  /** The workload's figure, from the part that ran vCPU 0 (all parts' time marks combined). */
  metric: MetricStats | null;
}

export function mergePartials(cfg: SimConfig, clockHz: number, parts: readonly VmPartial[]): RunResult {
  const ns = (cycles: number) => (cycles / clockHz) * 1e9;
  const vcpus = parts.flatMap((p) => p.vcpus).sort((a, b) => a.id - b.id);
  if (vcpus.length !== cfg.vcpus) throw new Error(`results of ${vcpus.length} vCPUs for a VM of ${cfg.vcpus}`);
  const vm = parts.find((p) => p.vm !== null)?.vm;
  const metric = parts.find((p) => p.metric !== null)?.metric;
  if (!vm || !metric) throw new Error('no part of the VM ran vCPU 0');
  const perVcpu: VcpuStats[] = vcpus.map((v) => {
    const s: Record<string, unknown> = { vcpu: v.id, guestTimeNs: ns(v.clock), haltedNs: ns(v.halted), exits: exitStats([v], ns) };
    for (const g of VCPU_GROUPS) if (groupApplies(g, cfg)) s[g] = v[g];
    return s as VcpuStats;
  });
  const clock = Math.max(...vcpus.map((v) => v.clock));
  const busy = vcpus.reduce((a, v) => a + v.clock - v.halted, 0);
  const out: Record<string, unknown> = {
    schemaVersion: SCHEMA_VERSION,
    config: cfg,
    metric,
    guestTimeNs: ns(clock),
    hostCpuUtilisation: busy / (clock * vcpus.length),
    exits: exitStats(vcpus, ns),
  };
  // vCPU groups are summed over the vCPUs (the checker's figure: the worst any one
  // vCPU's shard showed, summed); the VM's own are taken as they are.
  for (const g of TOTALS_ORDER) {
    if (!groupApplies(g, cfg)) continue;
    out[g] = isVcpuGroup(g) ? sumGroups(g, vcpus.map((v) => v[g] as GroupStats<typeof g>)) : vm[g];
  }
  out.perVcpu = perVcpu;
  // A group of its own, after everything the result had before it.
  out.exitDetail = exitDetail(vcpus, ns);
  return out as RunResult;
}

function isVcpuGroup(g: StatGroupName): g is (typeof VCPU_GROUPS)[number] {
  return (VCPU_GROUPS as readonly string[]).includes(g);
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
