/**
 * The figures a report, a plot or a comparison shows for one run (the measures), how
 * each is read from a run's statistics, and the titles of measures and config fields on
 * axes, legends and column heads.
 */
import type { SimConfig } from '../../shared/config.js';
import type { RunResult } from '../../shared/stats.js';

/** Quantities a report or plot can show for one run (`measure`). */
export const MEASURES = [
  'metric',
  'hitRate',
  'exitsPerSwitch',
  'exits',
  'contextSwitches',
  'shadowFaults',
  'pagesEvicted',
  'tlbMisses',
  'hostCpu',
  'rootMissesPerSwitch',
  'rootFreesPerSwitch',
  'walkRefs',
  'staleTranslations',
] as const;
export type Measure = (typeof MEASURES)[number];

/**
 * Workloads whose figure is not about context switches (an idle guest's ticks, a system
 * call, a page fault): the few switches and cr3 loads they make are incidental, so exits
 * per switch and the cr3 cache's hit rate mean nothing there (1,256 exits per switch for
 * an idle guest, a hit rate over two lookups).
 */
const NOT_SWITCHING: ReadonlySet<string> = new Set(['idle', 'syscall', 'pagefault']);

/** One quantity of one run; null where it does not apply (no cr3 lookups, no switches, a workload it means nothing for). */
export function measure(r: RunResult, m: Measure): number | null {
  switch (m) {
    case 'metric':
      return r.metric.value;
    case 'hitRate':
      return r.cr3Cache.lookups && !NOT_SWITCHING.has(r.config.workload) ? (r.cr3Cache.hits / r.cr3Cache.lookups) * 100 : null;
    case 'exitsPerSwitch':
      return r.guest.contextSwitches && !NOT_SWITCHING.has(r.config.workload) ? r.exits.total / r.guest.contextSwitches : null;
    case 'exits':
      return r.exits.total;
    case 'contextSwitches':
      return r.guest.contextSwitches;
    case 'shadowFaults':
      return r.mmu.shadowFaults;
    case 'pagesEvicted':
      return r.mmu.pagesEvicted;
    case 'tlbMisses':
      return r.tlb.misses;
    case 'hostCpu':
      return r.hostCpuUtilisation * 100;
    case 'rootMissesPerSwitch':
      return r.roots && r.guest.contextSwitches ? r.roots.misses / r.guest.contextSwitches : null;
    case 'rootFreesPerSwitch':
      return r.roots && r.guest.contextSwitches ? r.roots.frees / r.guest.contextSwitches : null;
    case 'walkRefs':
      return r.walk ? r.walk.refs : null;
    case 'staleTranslations':
      // The most stale translations one check of the translation checker found; only where checks ran.
      return r.mmu.checks ? r.mmu.staleTranslations : null;
  }
}

/** Titles of the workloads' metrics, by unit (see METRIC_UNITS in plot-check.ts). */
const METRIC_TITLES: Readonly<Record<string, string>> = {
  'us/switch': 'time per context switch (µs)',
  s: 'run time (s)',
  'us/roundtrip': 'time per round trip (µs)',
  'us/pass': 'time per token pass (µs)',
  'us/round': 'time per round (µs)',
  '% host CPU': 'host CPU (%)',
  'us/call': 'time per system call (µs)',
  'us/fault': 'time per page fault (µs)',
  'us/fork': 'time per fork, exit and wait (µs)',
};

/** Axis and column titles of the measures (the metric's title depends on its unit). */
export function measureTitle(m: Measure, metricUnit?: string): string {
  switch (m) {
    case 'metric':
      return metricUnit ? (METRIC_TITLES[metricUnit] ?? `metric (${metricUnit})`) : 'metric (unit per workload)';
    case 'hitRate':
      return 'cr3 cache hit rate (%)';
    case 'exitsPerSwitch':
      return 'VM exits per context switch';
    case 'exits':
      return 'VM exits';
    case 'contextSwitches':
      return 'context switches';
    case 'shadowFaults':
      return 'shadow page faults';
    case 'pagesEvicted':
      return 'shadow pages evicted';
    case 'tlbMisses':
      return 'TLB misses';
    case 'hostCpu':
      return 'host CPU utilisation (%)';
    case 'rootMissesPerSwitch':
      return 'root misses per context switch';
    case 'rootFreesPerSwitch':
      return 'roots freed per context switch';
    case 'walkRefs':
      return 'page-walk memory references';
    case 'staleTranslations':
      return 'stale translations (most in one check)';
  }
}

/** Titles of config fields for axes, legends and column heads (others show their name). */
const FIELD_TITLES: Readonly<Partial<Record<keyof SimConfig, string>>> = {
  mode: 'mode',
  workload: 'workload',
  tasks: 'tasks',
  groups: 'hackbench groups',
  loops: 'loops',
  thread: 'threads',
  pipe: 'pipes',
  cacheSize: 'cr3 cache size (entries)',
  mmuPages: 'shadow page pool (pages)',
  hz: 'HZ',
  vcpus: 'vCPUs',
  seed: 'seed',
  profile: 'cost profile',
  memoryMiB: 'guest memory (MiB)',
  quantum: 'synchronisation quantum (µs)',
  sndbuf: 'socket send buffer (bytes)',
  io: 'disk reads per pass',
  clocksource: 'clocksource',
  arch: 'guest paging',
  kpti: 'page-table isolation',
  pcid: 'PCID',
  vpid: 'VPID',
  prevRoots: 'previous roots (N)',
  pwc: 'paging-structure cache entries',
  size: 'working set per process (KiB)',
  mitigations: 'host mitigations',
};
export const fieldTitle = (f: keyof SimConfig): string => FIELD_TITLES[f] ?? f;

