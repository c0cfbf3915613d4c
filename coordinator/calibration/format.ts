/** The calibration's report: the fitted costs with their bounds, each cell's residual with its spread over seeds, and the predictions. */
import type { SimConfig } from '../../shared/config.js';
import { displayPath } from '../store/files.js';
import type { CalibrationResult } from './calibrate.js';
import { MODE_TRAITS } from '../../shared/modes.js';

const pct = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(1)}%`;

/** A prediction's config in a few words: the workload and what sets it apart from the defaults (calibrate's output, docs/fidelity.md). */
export function describePrediction(c: SimConfig): string {
  const what =
    c.workload === 'hackbench'
      ? `hackbench ${c.groups}${c.thread ? ' thread' : ''}${c.pipe ? ' pipe' : ''}`
      : c.workload === 'ctxswitch'
        ? `ctxswitch ${c.tasks} tasks`
        : c.workload === 'idle'
          ? `idle HZ=${c.hz}`
          : c.workload;
  const extra: string[] = [];
  if (c.vcpus !== 1) extra.push(`${c.vcpus} vCPUs`);
  if (MODE_TRAITS[c.mode].shadow === 'cached') extra.push(`${c.mmuPages} pages`);
  if (c.extraFlush !== 'none') extra.push(`extra flush ${c.extraFlush}`);
  if (c.clocksource !== 'tsc') extra.push(`clocksource ${c.clocksource}`);
  return `${what}, ${c.mode}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

export function formatCalibration(r: CalibrationResult): string {
  const lines: string[] = [];
  lines.push(`calibration ${r.spec.name} (base ${r.spec.base}, targets ${r.spec.targets}): ${r.evaluations} evaluations, mean squared log error ${r.objective.toFixed(4)}`);
  lines.push('');
  lines.push('fitted costs:');
  for (const f of r.spec.free) {
    lines.push(`  ${f.cost.padEnd(20)} ${String(r.fitted[f.cost]).padStart(10)}   [${f.min}, ${f.max}]`);
  }
  lines.push('');
  const seeds = r.spec.seeds ?? 1;
  lines.push(`${'cell'.padEnd(44)}${'published'.padStart(11)}${'simulated'.padStart(11)}${'error'.padStart(9)}   seeds 1-${seeds}: lowest - highest`);
  for (const c of r.cells) {
    lines.push(`${`${c.label}, ${c.mode}`.padEnd(44)}${String(c.published).padStart(11)}${c.simulated.toPrecision(4).padStart(11)}${pct(c.errorPct).padStart(9)}   ${c.spread.min.toPrecision(4)} - ${c.spread.max.toPrecision(4)}`);
  }
  if (r.predictions.length) {
    lines.push('');
    lines.push('predictions (not fitted):');
    for (const p of r.predictions) {
      lines.push(`  ${describePrediction(p.config).padEnd(58)}${p.metric.value.toPrecision(4).padStart(11)} ${p.metric.unit.padEnd(12)} ${p.spread.min.toPrecision(4)} - ${p.spread.max.toPrecision(4)}`);
    }
  }
  if (r.profileFile) lines.push('', `fitted profile written to ${displayPath(r.profileFile)}`);
  return lines.join('\n') + '\n';
}
