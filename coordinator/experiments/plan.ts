/**
 * `sweep --dry-run` and `reproduce --dry-run`: what the command would do, touching
 * nothing. Every config of the expansion, whether the store already holds its record
 * (read only: nothing is created, removed or replaced), and an estimate of the time the
 * rest would take: the host seconds the stored records of the same experiment took, on
 * average, times the runs left, over the worker threads. With no stored record there is
 * nothing to time, and the plan says so rather than guess.
 */
import type { SimConfig } from '../../shared/config.js';
import { FileProblem } from '../store/files.js';
import type { ResultStore } from '../store/store.js';
import type { Expansion } from './expand.js';

export interface PlanRun {
  key: string | null;
  config: SimConfig;
  /** stored: a record the command would keep; run: no usable record (or --fresh). */
  status: 'stored' | 'run';
}

export interface Plan {
  experiment: string;
  results: string;
  points: number;
  merged: number;
  total: number;
  stored: number;
  toRun: number;
  workers: number;
  /** Mean host seconds of the stored runs timed, or null if none is. */
  meanRunSeconds: number | null;
  /** meanRunSeconds x toRun / min(workers, toRun); null when there is nothing to time from. */
  estimateSeconds: number | null;
  runs: PlanRun[];
}

export function makePlan(name: string, expansion: Expansion, store: ResultStore, o: { fresh: boolean; workers: number }): Plan {
  let exists = true;
  try {
    store.check();
  } catch (err) {
    if (!(err instanceof FileProblem)) throw err;
    exists = false;
  }
  const timed: number[] = [];
  const runs = expansion.configs.map((config): PlanRun => {
    const l = exists ? store.lookup(config) : undefined;
    if (l?.kind === 'record' && typeof l.record.hostSeconds === 'number') timed.push(l.record.hostSeconds);
    const stored = l?.kind === 'record' && !o.fresh;
    return { key: l?.kind === 'record' ? l.record.key : null, config, status: stored ? 'stored' : 'run' };
  });
  const toRun = runs.filter((r) => r.status === 'run').length;
  const meanRunSeconds = timed.length ? timed.reduce((s, x) => s + x, 0) / timed.length : null;
  const threads = Math.max(1, Math.min(o.workers, toRun));
  return {
    experiment: name,
    results: store.dir,
    points: expansion.points,
    merged: expansion.merged,
    total: runs.length,
    stored: runs.length - toRun,
    toRun,
    workers: threads,
    meanRunSeconds,
    estimateSeconds: toRun === 0 ? 0 : meanRunSeconds === null ? null : (meanRunSeconds * toRun) / threads,
    runs,
  };
}

const seconds = (s: number): string => (s < 60 ? `${s.toFixed(1)} s` : s < 3600 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`);

/** The plan as text: one line per config (its varied fields), then the totals and the estimate. */
export function formatPlan(plan: Plan, describe: (cfg: SimConfig) => string): string {
  const lines = [`${plan.experiment}: plan (dry run, nothing is run or written)`, ''];
  for (const r of plan.runs) lines.push(`  ${r.status === 'stored' ? 'stored' : 'run   '}  ${describe(r.config)}`);
  lines.push('');
  const merged = plan.merged ? ` (${plan.points} points, ${plan.merged} merged)` : '';
  lines.push(`${plan.total} configs${merged}: ${plan.stored} already stored, ${plan.toRun} to run on ${plan.workers} worker thread${plan.workers === 1 ? '' : 's'} (store: ${plan.results})`);
  if (plan.estimateSeconds === null) lines.push('estimate: unknown (no stored run of this experiment has a host time to go by)');
  else if (plan.toRun > 0) lines.push(`estimate: ${seconds(plan.estimateSeconds)} (${plan.meanRunSeconds!.toFixed(2)} s per run, the mean of the stored runs)`);
  return lines.join('\n') + '\n';
}
