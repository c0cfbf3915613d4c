/**
 * Exit reports at `perf kvm stat report`'s level from a run's exit detail
 * (shared/exit-detail.ts): `--event vmexit` (one row per exit reason) or `--event ioport`
 * (one row per port and direction, as "0x80:POUT"), for all vCPUs or `--vcpu N`, sorted by
 * `--key sample` (count) or `--key time` (mean time, as perf's `time` key compares), laid
 * out as tools/perf/builtin-kvm.c print_result prints them; and `--event kvm_stat`, KVM's
 * debugfs counters (shared/kvm-stat.ts) with totals and rates per second of guest time, as
 * the kvm_stat script shows them. Formats: table, csv, json.
 */
import type { ExitDetailStats, TimeStats } from '../../shared/exit-detail.js';
import { KVM_STAT, kvmCountersOfResult } from '../../shared/kvm-stat.js';
import { SCHEMA_VERSION, type RunResult } from '../../shared/stats.js';
import { MODEL_VERSION } from '../../worker/model.js';
import type { Format } from './format.js';

export const EXIT_EVENTS = ['vmexit', 'ioport', 'kvm_stat'] as const;
export type ExitEvent = (typeof EXIT_EVENTS)[number];
export const EXIT_KEYS = ['sample', 'time'] as const;
export type ExitKey = (typeof EXIT_KEYS)[number];

export interface ExitView {
  event: ExitEvent;
  /** One vCPU, or null for all. */
  vcpu: number | null;
  key: ExitKey;
}

export const DEFAULT_EXIT_VIEW: ExitView = { event: 'vmexit', vcpu: null, key: 'sample' };

export interface ExitRow extends TimeStats {
  name: string;
  samplesPct: number;
  timePct: number;
  /** perf's "( +- x% )": the standard error of the mean relative to the mean (util/stat.c stddev_stats, rel_stddev_stats). */
  relStderrPct: number;
  /** The handler's own charged time where the row's time is longer (HLT: exit to the next entry); else null. */
  handler: TimeStats | null;
}

export interface ExitTable {
  event: 'vmexit' | 'ioport';
  vcpu: number | null;
  key: ExitKey;
  rows: ExitRow[];
  totalSamples: number;
  totalNs: number;
}

export interface CounterTable {
  event: 'kvm_stat';
  vcpu: number | null;
  guestTimeNs: number;
  counters: { name: string; total: number; perSecond: number }[];
}

function detailOf(r: RunResult, vcpu: number | null): ExitDetailStats {
  const d = r.exitDetail;
  return vcpu === null ? d : d.perVcpu[vcpu]!;
}

const relStderr = (t: TimeStats): number => (t.count < 2 || t.meanNs === 0 ? 0 : (100 * t.stddevNs) / Math.sqrt(t.count) / t.meanNs);

/** The rows of a vmexit or ioport view, sorted as perf sorts them (ties by name). */
export function exitTable(r: RunResult, view: ExitView & { event: 'vmexit' | 'ioport' }): ExitTable {
  const d = detailOf(r, view.vcpu);
  const raw: { name: string; t: TimeStats; handler: TimeStats | null }[] =
    view.event === 'vmexit'
      ? Object.entries(d.vmexit).map(([name, t]) => (name === 'HLT' && d.hltToEntry ? { name, t: d.hltToEntry, handler: t } : { name, t: t, handler: null }))
      : d.ioport.map((p) => ({ name: `0x${p.port.toString(16)}:${p.dir}`, t: p, handler: null }));
  const totalSamples = raw.reduce((s, e) => s + e.t.count, 0);
  const totalNs = raw.reduce((s, e) => s + e.t.totalNs, 0);
  const rows = raw.map(({ name, t, handler }) => ({
    name,
    ...t,
    samplesPct: totalSamples ? (t.count / totalSamples) * 100 : 0,
    timePct: totalNs ? (t.totalNs / totalNs) * 100 : 0,
    relStderrPct: relStderr(t),
    handler,
  }));
  const cmp = view.key === 'sample' ? (a: ExitRow, b: ExitRow) => b.count - a.count : (a: ExitRow, b: ExitRow) => b.meanNs - a.meanNs;
  rows.sort((a, b) => cmp(a, b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { event: view.event, vcpu: view.vcpu, key: view.key, rows, totalSamples, totalNs };
}

export function counterTable(r: RunResult, vcpu: number | null): CounterTable {
  const v = vcpu === null ? null : r.perVcpu[vcpu]!;
  const values = kvmCountersOfResult(r, vcpu);
  const guestTimeNs = v ? v.guestTimeNs : r.guestTimeNs;
  const counters = KVM_STAT.map(({ name }) => {
    const total = values[name]!;
    return { name, total, perSecond: guestTimeNs > 0 ? total / (guestTimeNs / 1e9) : 0 };
  });
  return { event: 'kvm_stat', vcpu, guestTimeNs, counters };
}

export function exitViewDoc(r: RunResult, view: ExitView): ExitTable | CounterTable {
  return view.event === 'kvm_stat' ? counterTable(r, view.vcpu) : exitTable(r, { ...view, event: view.event });
}

/** Why `view` cannot be shown for this result, or undefined. */
export function viewProblem(r: RunResult, view: ExitView): string | undefined {
  if (view.vcpu !== null && view.vcpu >= r.perVcpu.length) return `has ${r.perVcpu.length} vCPU${r.perVcpu.length > 1 ? 's' : ''}; --vcpu ${view.vcpu} is not one of them`;
  return undefined;
}

const us = (ns: number) => (ns / 1000).toFixed(2);
const pad = (s: string, w: number) => s.padStart(w);

function runLine(r: RunResult): string {
  const c = r.config;
  return `${c.mode}, ${c.workload}${c.workload === 'hackbench' ? ` ${c.groups}` : ` ${c.tasks} tasks`}, ${c.vcpus} vCPU${c.vcpus > 1 ? 's' : ''}, seed ${c.seed}`;
}

/** A vmexit or ioport table as print_result prints it (widths and formats as there). */
function tableText(r: RunResult, t: ExitTable): string {
  const out: string[] = [`${runLine(r)}, sorted by ${t.key}`, ''];
  out.push(`Analyze events for all VMs, ${t.vcpu === null ? 'all VCPUs' : `VCPU ${t.vcpu}`}:`, '');
  const name = t.event === 'vmexit' ? 'VM-EXIT' : 'IO Port Access';
  out.push(`${pad(name, 20)} ${pad('Samples', 10)} ${pad('Samples%', 9)} ${pad('Time%', 9)} ${pad('Min Time', 11)} ${pad('Max Time', 11)} ${pad('Avg time', 16)} `, '');
  for (const row of t.rows) {
    out.push(
      `${pad(row.name, 20)} ${pad(String(row.count), 10)} ${pad(row.samplesPct.toFixed(2), 8)}% ${pad(row.timePct.toFixed(2), 8)}% ${pad(us(row.minNs), 9)}us ${pad(us(row.maxNs), 9)}us ${pad(us(row.meanNs), 9)}us ( +-${pad(row.relStderrPct.toFixed(2), 7)}% )`,
    );
  }
  out.push('', `Total Samples:${t.totalSamples}, Total events handled time:${us(t.totalNs)}us.`, '');
  for (const row of t.rows) {
    if (!row.handler) continue;
    const h = row.handler;
    out.push(
      `${row.name} is timed from the exit to the next entry, the halted interval included (as perf times it); its handler's own time: min ${us(h.minNs)}us, max ${us(h.maxNs)}us, avg ${us(h.meanNs)}us over ${h.count} exits.`,
    );
  }
  if (t.event === 'ioport') out.push('Each port access is timed as its whole IO_INSTRUCTION exit (perf starts at kvm_pio, inside the handler; the model does not split the exit round trip).');
  return out.join('\n') + '\n';
}

function countersText(r: RunResult, t: CounterTable): string {
  const out = [`${runLine(r)}${t.vcpu === null ? '' : `, vCPU ${t.vcpu}`}`, '', 'kvm statistics', ''];
  out.push(` ${'name'.padEnd(22)} ${pad('total', 12)} ${pad('/s guest', 12)}`);
  for (const c of t.counters) out.push(` ${c.name.padEnd(22)} ${pad(String(c.total), 12)} ${pad(c.perSecond.toFixed(0), 12)}`);
  out.push('', `over ${(t.guestTimeNs / 1e6).toFixed(3)} ms of guest time${t.vcpu === null ? ' (the slowest vCPU; counters summed over vCPUs)' : ''}`);
  return out.join('\n') + '\n';
}

export function formatExitView(r: RunResult, view: ExitView): string {
  const doc = exitViewDoc(r, view);
  return doc.event === 'kvm_stat' ? countersText(r, doc) : tableText(r, doc);
}

const CSV_EXIT_HEAD = 'run,vcpu,event,name,samples,samples_pct,time_pct,min_ns,max_ns,mean_ns,stddev_ns,rel_stderr_pct,total_ns,handler_min_ns,handler_max_ns,handler_mean_ns';
const CSV_COUNTER_HEAD = 'run,vcpu,counter,total,per_second';

export function csvHead(view: ExitView): string {
  return view.event === 'kvm_stat' ? CSV_COUNTER_HEAD : CSV_EXIT_HEAD;
}

/** CSV rows of one run (`run`: its store key, or empty), without the head. */
export function csvRows(r: RunResult, view: ExitView, run: string): string[] {
  const doc = exitViewDoc(r, view);
  const vcpu = doc.vcpu === null ? 'all' : String(doc.vcpu);
  if (doc.event === 'kvm_stat') return doc.counters.map((c) => [run, vcpu, c.name, c.total, c.perSecond].join(','));
  return doc.rows.map((row) => {
    const h = row.handler ?? row;
    return [run, vcpu, doc.event, row.name, row.count, row.samplesPct, row.timePct, row.minNs, row.maxNs, row.meanNs, row.stddevNs, row.relStderrPct, row.totalNs, h.minNs, h.maxNs, h.meanNs].join(',');
  });
}

/**
 * The exit reports of several runs (`report --exits`, `run --exits`) in one format. A run
 * the view does not apply to (a vCPU it lacks) gets one line on stderr saying so.
 */
export function reportExits(records: readonly { key: string; result: RunResult }[], view: ExitView, format: Exclude<Format, 'md'>, experiment?: string): string {
  const shown = records.filter((r) => {
    const problem = viewProblem(r.result, view);
    if (problem !== undefined) process.stderr.write(`${r.key ? `run ${r.key}` : 'the run'} ${problem}\n`);
    return problem === undefined;
  });
  if (format === 'json') {
    const runs = shown.map((r) => ({ key: r.key, config: r.result.config, ...exitViewDoc(r.result, view) }));
    return JSON.stringify({ schemaVersion: SCHEMA_VERSION, modelVersion: MODEL_VERSION, ...(experiment ? { experiment } : {}), view, exits: runs }, null, 2) + '\n';
  }
  if (format === 'csv') return [csvHead(view), ...shown.flatMap((r) => csvRows(r.result, view, r.key))].join('\n') + '\n';
  return shown.map((r) => formatExitView(r.result, view)).join('\n');
}
