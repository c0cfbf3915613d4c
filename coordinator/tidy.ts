/**
 * `report --format csv --tidy`: stored runs in long form, one row per run × statistic,
 * for data-frame tools. Columns: `key`, every config field (named as in the JSON), then
 * `vcpu` (empty for the VM's totals), `statistic` (the JSON path of the number, e.g.
 * `cr3Cache.hits`, `exits.byReason.CR_ACCESS.count`) and `value`. The statistics are
 * every number of the run's JSON: metric, times, exits by reason, every group's fields,
 * and the same per vCPU.
 */
import { CONFIG_FIELDS } from '../shared/config.js';
import type { RunRecord } from './store.js';

/** Every number in a JSON value, with its dotted path (arrays and the config skipped). */
function numbers(v: unknown, path: string, out: [string, number][]): void {
  if (typeof v === 'number') out.push([path, v]);
  else if (v !== null && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) numbers(x, path ? `${path}.${k}` : k, out);
}

/** The statistics of a run: [vcpu or null, statistic, value]. */
export function tidyStatistics(r: RunRecord): [number | null, string, number][] {
  const { config: _c, perVcpu, schemaVersion: _s, ...totals } = r.result;
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
  return out;
}

const cell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function formatTidy(records: readonly RunRecord[]): string {
  const lines = [['key', ...CONFIG_FIELDS, 'vcpu', 'statistic', 'value'].join(',')];
  for (const r of records) {
    const cfg = CONFIG_FIELDS.map((f) => cell(r.config[f]));
    for (const [vcpu, stat, value] of tidyStatistics(r)) lines.push([cell(r.key), ...cfg, cell(vcpu), cell(stat), cell(value)].join(','));
  }
  return lines.join('\n') + '\n';
}
