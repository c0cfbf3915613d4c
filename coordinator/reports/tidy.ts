/**
 * `report --format csv --tidy`: stored runs in long form, one row per run × statistic,
 * for data-frame tools. Columns: `key`, every config field (named as in the JSON), then
 * `vcpu` (empty for the VM's totals), `statistic` (the JSON path of the number, e.g.
 * `cr3Cache.hits`, `exits.byReason.CR_ACCESS.count`) and `value`. The statistics are
 * every number of the run's JSON: metric, times, exits by reason, every group's fields,
 * and the same per vCPU; the exit detail (perf kvm stat's moments) per reason, per port and
 * direction (`exitDetail.ioport.0x80:POUT.meanNs`), HLT's span, for the VM and per vCPU.
 */
import { CONFIG_FIELDS, fieldApplies } from '../../shared/config.js';
import type { RunRecord } from '../store/record.js';
import { csvCell } from './format.js';

/** Every number in a JSON value, with its dotted path (arrays and the config skipped). */
function numbers(v: unknown, path: string, out: [string, number][]): void {
  if (typeof v === 'number') out.push([path, v]);
  else if (v !== null && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) numbers(x, path ? `${path}.${k}` : k, out);
}

/** The statistics of a run: [vcpu or null, statistic, value]. */
export function tidyStatistics(r: RunRecord): [number | null, string, number][] {
  const { config: _c, perVcpu, schemaVersion: _s, exitDetail, ...totals } = r.result;
  const out: [number | null, string, number][] = [];
  const t: [string, number][] = [];
  numbers(totals, '', t);
  for (const [k, v] of t) out.push([null, k, v]);
  for (const p of perVcpu) {
    const { vcpu, ...rest } = p;
    const s: [string, number][] = [];
    numbers(rest, '', s);
    for (const [k, v] of s) out.push([vcpu, k, v]);
  }
  const { perVcpu: detailPerVcpu, ...detail } = exitDetail;
  for (const [k, v] of detailNumbers(detail)) out.push([null, k, v]);
  for (const { vcpu, ...d } of detailPerVcpu) for (const [k, v] of detailNumbers(d)) out.push([vcpu, k, v]);
  return out;
}

/** One exit detail's numbers, its ports keyed as perf labels them (`0x21:PIN`). */
function detailNumbers(d: Omit<RunRecord['result']['exitDetail'], 'perVcpu'>): [string, number][] {
  const { ioport, ...rest } = d;
  const s: [string, number][] = [];
  numbers(rest, 'exitDetail', s);
  for (const { port, dir, ...stats } of ioport) numbers(stats, `exitDetail.ioport.0x${port.toString(16)}:${dir}`, s);
  return s;
}

export function formatTidy(records: readonly RunRecord[]): string {
  const lines = [['key', ...CONFIG_FIELDS, 'vcpu', 'statistic', 'value'].join(',')];
  for (const r of records) {
    // A field the run ignores is empty (its default is not a setting of that run).
    const cfg = CONFIG_FIELDS.map((f) => (fieldApplies(f, r.config) ? csvCell(r.config[f]) : ''));
    for (const [vcpu, stat, value] of tidyStatistics(r)) lines.push([csvCell(r.key), ...cfg, csvCell(vcpu), csvCell(stat), csvCell(value)].join(','));
  }
  return lines.join('\n') + '\n';
}
