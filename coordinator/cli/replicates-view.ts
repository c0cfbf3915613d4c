/** `vcpusim run --seeds N`: one config run with seeds 1..N, each summary, then the metric's mean and 95% interval. */
import { SCHEMA_VERSION, type RunResult } from '../../shared/stats.js';
import { fmtNum } from '../reports/format.js';
import { meanCi } from '../reports/replicates.js';
import { formatSummary, type SplitInfo } from './summary.js';

/** The JSON document: the metric over the seeds, and every seed's full result. */
export function replicatesDoc(results: readonly RunResult[]): unknown {
  const m = results[0]!.metric;
  const s = meanCi(results.map((r) => r.metric.value))!;
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: 'replicates',
    seeds: results.map((r) => r.config.seed),
    metric: { name: m.name, unit: m.unit, mean: s.mean, ci95: s.ci95, sd: s.sd, n: s.n, values: results.map((r) => r.metric.value) },
    results,
  };
}

/** Each seed's summary (and exit report), then `metric over seeds 1-N: mean ± half-width (95%, n = N)`. */
export function formatReplicates(done: readonly { result: RunResult; hostSeconds: number; split?: SplitInfo }[], exits: boolean, exitReport?: (r: RunResult) => string): string {
  const parts = done.map((d) => formatSummary(d.result, d.hostSeconds, d.split) + (exits && exitReport ? '\n' + exitReport(d.result) : ''));
  const m = done[0]!.result.metric;
  const s = meanCi(done.map((d) => d.result.metric.value))!;
  const ci = s.ci95 === null ? 'no interval with one seed' : `± ${fmtNum(s.ci95, 3)} (95% interval, Student t)`;
  return `${parts.join('\n')}\n${m.name} over seeds 1-${s.n}: mean ${fmtNum(s.mean, 4)} ${m.unit} ${ci}, n = ${s.n}\n`;
}
