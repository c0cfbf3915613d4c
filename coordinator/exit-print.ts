/**
 * The exit reports of several runs (`report --exits`, `run --exits`) in one format. A
 * stored record from before the exit detail gets one line on stderr saying so (and, for
 * the vmexit view, the averages it does have), never a failure.
 */
import { SCHEMA_VERSION, type RunResult } from '../shared/stats.js';
import { UsageError } from './errors.js';
import { csvHead, csvRows, DETAIL_MISSING, exitViewDoc, formatExitView, viewProblem, type ExitView } from './exit-report.js';
import { formatExitReport, type Format } from './report.js';
import { MODEL_VERSION } from './store.js';

export function reportExits(records: readonly { key: string; result: RunResult }[], view: ExitView, format: Format, experiment?: string): string {
  if (format === 'md') throw new UsageError({ option: '--format', value: format, allowed: 'table, csv or json with --exits' });
  const shown: { key: string; result: RunResult }[] = [];
  const fallback: string[] = [];
  for (const r of records) {
    const problem = viewProblem(r.result, view);
    if (problem === undefined) {
      shown.push(r);
      continue;
    }
    process.stderr.write(`${r.key ? `run ${r.key}` : 'the run'} ${problem}\n`);
    if (problem === DETAIL_MISSING && view.event === 'vmexit' && view.vcpu === null && format === 'table') fallback.push(formatExitReport(r.result));
  }
  if (format === 'json') {
    const runs = shown.map((r) => ({ key: r.key, config: r.result.config, ...exitViewDoc(r.result, view) }));
    return JSON.stringify({ schemaVersion: SCHEMA_VERSION, modelVersion: MODEL_VERSION, ...(experiment ? { experiment } : {}), view, exits: runs }, null, 2) + '\n';
  }
  if (format === 'csv') return [csvHead(view), ...shown.flatMap((r) => csvRows(r.result, view, r.key))].join('\n') + '\n';
  return [...shown.map((r) => formatExitView(r.result, view)), ...fallback].join('\n');
}
