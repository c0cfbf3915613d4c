/**
 * `vcpusim trace analyze FILE`: the cr3 loads of a recorded scheduler trace and the hit
 * rate of a per-CPU cr3 cache of every size 1-64 under LRU, the patch's round-robin fill and
 * Belady's optimum, per CPU and in total; each hit is a guest cr3 write that does not exit
 * (kvm-trunk takes a CR_ACCESS exit on every one).
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
}

const bySize = (hits: HitsBySize, f: (h: number) => number): RateBySize => {
  const out: RateBySize = {};
  for (let k = 1; k <= MAX_CACHE; k++) out[String(k)] = f(hits[k - 1]!);
  return out;
};
const rate = (loads: number) => (h: number) => (loads === 0 ? 0 : h / loads);

export function analyzeTrace(trace: ParsedTrace, meta: { file: string; sha256: string }, opts: { kthreads?: RegExp; cpus?: readonly number[] } = {}): TraceReport {
  const a: AddressSpaceAnalysis = cr3Loads(trace, opts);
  const total: Record<Policy, Float64Array> = { lru: new Float64Array(MAX_CACHE), roundRobin: new Float64Array(MAX_CACHE), opt: new Float64Array(MAX_CACHE) };
  const perCpu: CpuReport[] = a.perCpu.map((c) => {
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
  };
}

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

/** Hit rate against cache size, one line per policy. */
export function traceHitRatePlot(r: TraceReport): TopLevelSpec {
  const values = POLICIES.flatMap((p) => Object.entries(r.hitRate[p]).map(([k, v]) => ({ size: Number(k), hitRate: v * 100, policy: POLICY_LABEL[p] })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `cr3 cache hit rate: ${r.file}`,
    width: 480,
    height: 300,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'size', type: 'quantitative', scale: { type: 'log', base: 2 }, title: 'cache entries per CPU' },
      y: { field: 'hitRate', type: 'quantitative', scale: { domain: [0, 100] }, title: 'cr3 loads that hit (%)' },
      color: { field: 'policy', type: 'nominal', title: 'policy' },
    },
  };
}
