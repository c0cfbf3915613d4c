/**
 * `vcpusim trace analyze FILE`: the cr3 loads of a recorded scheduler trace and the hit
 * rate of a per-CPU cr3 cache of every size 1-64 under LRU, the patch's round-robin fill and
 * Belady's optimum, per CPU and in total; each hit is a guest cr3 write that does not exit
 * (kvm-trunk takes a CR_ACCESS exit on every one).
 *
 * And KVM's previous roots of today (arch/x86/kvm/mmu/mmu.c, fast_pgd_switch): the current
 * root and N previous ones in LRU order, so a cr3 load is a fast switch iff the address
 * space is among the N most recently used others: LRU over N + 1 entries, for N from 0 to
 * 64. With page-table isolation each process has two roots, and a switch from w to x loads
 * three: w's kernel page table at the entry that leads to the switch, x's kernel one at
 * switch_mm, x's user one on the way back (the system calls between switches load the
 * same two roots of the running process, hits that do not reorder the others, and are
 * left out).
 */
import type { TopLevelSpec } from 'vega-lite';
import { cr3Loads, type AddressSpaceAnalysis } from '../../shared/trace/address-spaces.js';
import { lruHits, MAX_CACHE, optHits, roundRobinHits, type HitsBySize } from './cache-policies.js';
import type { ParsedTrace, TraceFormat } from '../../shared/trace/parse.js';

export const POLICIES = ['lru', 'roundRobin', 'opt'] as const;
export type Policy = (typeof POLICIES)[number];
const POLICY_LABEL: Record<Policy, string> = { lru: 'LRU', roundRobin: 'round-robin (the patch)', opt: "Belady's optimum" };

/** Hit rate by size, keys "1".."64". */
export type RateBySize = Record<string, number>;

export interface CpuReport {
  cpu: number;
  switches: number;
  cr3Loads: number;
  addressSpaces: number;
  hitRate: Record<Policy, RateBySize>;
  /** cr3 exits a cache of each size avoids (its hits). */
  exitsAvoided: Record<Policy, RateBySize>;
}

/** Fast-switch rate by previous roots N, keys "0".."64". */
export type RateByN = Record<string, number>;

/** The largest N: KVM's previous roots the report covers. */
export const MAX_PREV_ROOTS = 64;

export interface PrevRootsReport {
  /** cr3 loads of the switches, one root per address space. */
  loads: number;
  fastSwitch: RateByN;
  /** With page-table isolation: the loads of the switches (three each), two roots per process. */
  kptiLoads: number;
  kptiFastSwitch: RateByN;
}

export interface TraceReport {
  file: string;
  format: TraceFormat;
  sha256: string;
  switches: number;
  cpus: number;
  cr3Loads: number;
  addressSpaces: number;
  kernelThreads: number;
  lostEvents: number;
  skippedEvents: Record<string, number>;
  hitRate: Record<Policy, RateBySize>;
  exitsAvoided: Record<Policy, RateBySize>;
  perCpu: CpuReport[];
  /** KVM's previous roots (all CPUs). */
  prevRoots: PrevRootsReport;
}

/** The root loads of a switch sequence with page-table isolation: 2x is x's kernel root, 2x + 1 its user root. */
export function kptiRootLoads(loads: Int32Array): Int32Array {
  const out = new Int32Array(loads.length * 3);
  let n = 0;
  for (let i = 0; i < loads.length; i++) {
    const x = loads[i]!;
    if (i > 0) out[n++] = 2 * loads[i - 1]!;
    out[n++] = 2 * x;
    out[n++] = 2 * x + 1;
  }
  return out.subarray(0, n);
}

/** Fast switches by N: a load among the N most recently used others hits, LRU over N + 1 (the current root never is loaded again without another between). */
const byN = (hits: Float64Array, loads: number): RateByN => {
  const out: RateByN = {};
  for (let n = 0; n <= MAX_PREV_ROOTS; n++) out[String(n)] = loads === 0 ? 0 : hits[n]! / loads;
  return out;
};

const bySize = (hits: HitsBySize, f: (h: number) => number): RateBySize => {
  const out: RateBySize = {};
  for (let k = 1; k <= MAX_CACHE; k++) out[String(k)] = f(hits[k - 1]!);
  return out;
};
const rate = (loads: number) => (h: number) => (loads === 0 ? 0 : h / loads);

export function analyzeTrace(trace: ParsedTrace, meta: { file: string; sha256: string }, opts: { kthreads?: RegExp; cpus?: readonly number[] } = {}): TraceReport {
  const a: AddressSpaceAnalysis = cr3Loads(trace, opts);
  const total: Record<Policy, Float64Array> = { lru: new Float64Array(MAX_CACHE), roundRobin: new Float64Array(MAX_CACHE), opt: new Float64Array(MAX_CACHE) };
  const roots = new Float64Array(MAX_PREV_ROOTS + 1);
  const kptiRoots = new Float64Array(MAX_PREV_ROOTS + 1);
  let kptiLoads = 0;
  const perCpu: CpuReport[] = a.perCpu.map((c) => {
    const plain = lruHits(c.loads, MAX_PREV_ROOTS + 1);
    const expanded = kptiRootLoads(c.loads);
    const kpti = lruHits(expanded, MAX_PREV_ROOTS + 1);
    kptiLoads += expanded.length;
    for (let n = 0; n <= MAX_PREV_ROOTS; n++) {
      roots[n]! += plain[n]!;
      kptiRoots[n]! += kpti[n]!;
    }
    const hits: Record<Policy, HitsBySize> = { lru: lruHits(c.loads), roundRobin: roundRobinHits(c.loads), opt: optHits(c.loads) };
    for (const p of POLICIES) for (let k = 0; k < MAX_CACHE; k++) total[p][k]! += hits[p][k]!;
    const n = c.loads.length;
    return {
      cpu: c.cpu,
      switches: c.switches,
      cr3Loads: n,
      addressSpaces: c.addressSpaces,
      hitRate: { lru: bySize(hits.lru, rate(n)), roundRobin: bySize(hits.roundRobin, rate(n)), opt: bySize(hits.opt, rate(n)) },
      exitsAvoided: { lru: bySize(hits.lru, (h) => h), roundRobin: bySize(hits.roundRobin, (h) => h), opt: bySize(hits.opt, (h) => h) },
    };
  });
  return {
    file: meta.file,
    format: trace.format,
    sha256: meta.sha256,
    switches: a.switches,
    cpus: perCpu.length,
    cr3Loads: a.cr3Loads,
    addressSpaces: a.addressSpaces,
    kernelThreads: a.kernelThreads,
    lostEvents: trace.lostEvents,
    skippedEvents: { ...trace.skipped },
    hitRate: { lru: bySize(total.lru, rate(a.cr3Loads)), roundRobin: bySize(total.roundRobin, rate(a.cr3Loads)), opt: bySize(total.opt, rate(a.cr3Loads)) },
    exitsAvoided: { lru: bySize(total.lru, (h) => h), roundRobin: bySize(total.roundRobin, (h) => h), opt: bySize(total.opt, (h) => h) },
    perCpu,
    prevRoots: { loads: a.cr3Loads, fastSwitch: byN(roots, a.cr3Loads), kptiLoads, kptiFastSwitch: byN(kptiRoots, kptiLoads) },
  };
}

/** The N previous roots past which the fast switches reach `share` of the loads (null if not within 64). */
export function prevRootsNeeded(rate: RateByN, share: number): number | null {
  for (let n = 0; n <= MAX_PREV_ROOTS; n++) if (rate[String(n)]! >= share) return n;
  return null;
}

/** The N the text report shows (the JSON has 0..64). */
const SHOWN_N = [0, 1, 2, 3, 4, 5, 7, 11, 15, 16, 23, 31, 47, 63, 64];

/** The sizes the text report shows (the JSON has all 64). */
const SHOWN = [1, 2, 3, 4, 5, 6, 8, 12, 16, 24, 32, 48, 64];
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
const pct = (r: number): string => `${(r * 100).toFixed(1)}%`;

export function formatTraceReport(r: TraceReport): string {
  const lines: string[] = [];
  const skipped = Object.entries(r.skippedEvents);
  lines.push(`${r.file} (${r.format}, sha256 ${r.sha256.slice(0, 16)}): ${plural(r.switches, 'switch', 'switches')} on ${plural(r.cpus, 'CPU')}, ${plural(r.cr3Loads, 'cr3 load')}, ${plural(r.addressSpaces, 'address space')}, ${plural(r.kernelThreads, 'kernel thread')}`);
  if (r.lostEvents > 0) lines.push(`warning: the tracer lost ${r.lostEvents} events; switches around them are missing`);
  if (skipped.length > 0) lines.push(`skipped: ${skipped.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  lines.push('');
  lines.push(`${'cache size'.padEnd(12)}${'LRU'.padStart(9)}${'round-robin'.padStart(13)}${'optimum'.padStart(10)}${'exits avoided (round-robin)'.padStart(30)}`);
  for (const k of SHOWN) {
    const key = String(k);
    lines.push(`${key.padEnd(12)}${pct(r.hitRate.lru[key]!).padStart(9)}${pct(r.hitRate.roundRobin[key]!).padStart(13)}${pct(r.hitRate.opt[key]!).padStart(10)}${String(r.exitsAvoided.roundRobin[key]!).padStart(30)}`);
  }
  const p = r.prevRoots;
  lines.push('');
  lines.push(`KVM's previous roots (current + N, LRU): cr3 loads that are fast switches; with page-table isolation ${plural(p.kptiLoads, 'root load')}, two roots per process`);
  lines.push(`${'N'.padEnd(12)}${'roots'.padStart(9)}${'with PTI'.padStart(13)}`);
  for (const n of SHOWN_N) lines.push(`${String(n).padEnd(12)}${pct(p.fastSwitch[String(n)]!).padStart(9)}${pct(p.kptiFastSwitch[String(n)]!).padStart(13)}`);
  const need = (rate: RateByN, share: number) => prevRootsNeeded(rate, share) ?? 'more than 64';
  lines.push(`previous roots for 90% / 99% fast switches: ${need(p.fastSwitch, 0.9)} / ${need(p.fastSwitch, 0.99)}; with page-table isolation ${need(p.kptiFastSwitch, 0.9)} / ${need(p.kptiFastSwitch, 0.99)}`);
  if (r.perCpu.length > 1) {
    lines.push('');
    lines.push(`${'cpu'.padEnd(6)}${'switches'.padStart(10)}${'cr3 loads'.padStart(11)}${'spaces'.padStart(8)}${'LRU 4'.padStart(8)}${'RR 4'.padStart(8)}${'opt 4'.padStart(8)}`);
    for (const c of r.perCpu) {
      lines.push(`${String(c.cpu).padEnd(6)}${String(c.switches).padStart(10)}${String(c.cr3Loads).padStart(11)}${String(c.addressSpaces).padStart(8)}${pct(c.hitRate.lru['4']!).padStart(8)}${pct(c.hitRate.roundRobin['4']!).padStart(8)}${pct(c.hitRate.opt['4']!).padStart(8)}`);
    }
  }
  return lines.join('\n');
}

/** The JSON document of `trace analyze --json`. */
export function traceReportDoc(r: TraceReport): unknown {
  return r;
}

/** Hit rate against cache size, one line per policy: steps (a cache holds a whole number of entries), the legend below the plot in full. */
export function traceHitRatePlot(r: TraceReport): TopLevelSpec {
  const values = POLICIES.flatMap((p) => Object.entries(r.hitRate[p]).map(([k, v]) => ({ size: Number(k), hitRate: v * 100, policy: POLICY_LABEL[p] })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: 'cr3 cache hit rate by cache size', subtitle: `${r.file}: ${r.cr3Loads} cr3 loads on ${r.cpus} CPU${r.cpus === 1 ? '' : 's'}` },
    background: 'white',
    width: 480,
    height: 300,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after', point: { size: 12 } },
    encoding: {
      x: { field: 'size', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { values: [1, 2, 4, 8, 16, 32, 64] }, title: 'cache entries per CPU' },
      y: { field: 'hitRate', type: 'quantitative', scale: { domain: [0, 100] }, title: 'cr3 loads that hit (%)' },
      color: { field: 'policy', type: 'nominal', title: 'policy', sort: POLICIES.map((p) => POLICY_LABEL[p]), legend: { orient: 'bottom', labelLimit: 0, columns: 3 } },
    },
  };
}
