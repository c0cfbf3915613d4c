/**
 * The check that a plot tells the truth about its experiment: every config field that
 * varies among the points it draws is its x axis, its series or its facet, so no two
 * different configs are ever drawn as one point (a line zig-zagging between modes); and
 * a metric's unit (which its workload sets) is the same on each y axis. Run when an
 * experiment is loaded, before anything runs.
 */
import { CONFIG_FIELDS, type SimConfig } from '../../shared/config.js';
import { MODE_TRAITS } from '../../shared/modes.js';

/** What the check reads of a plot definition (experiments/schema.ts's PlotDef has these fields; this file does not import it, which would be a cycle). */
export interface PlacedPlot {
  x: keyof SimConfig;
  y: string;
  series?: keyof SimConfig;
  /** Only the runs whose config has these values. */
  where?: Partial<SimConfig>;
  facet?: keyof SimConfig;
  file?: string;
}

/**
 * The unit of each workload's metric, as its `metric()` in worker/workloads/<name>.ts
 * reports it (checked against real runs in test/coordinator/plot.test.ts).
 */
export const METRIC_UNITS: Readonly<Record<SimConfig['workload'], string>> = {
  ctxswitch: 'us/switch',
  hackbench: 's',
  iomix: 'us/pass',
  idle: '% host CPU',
  trace: 's',
  pgdreuse: 'us/round',
  pipe: 'us/roundtrip',
  syscall: 'us/call',
  pagefault: 'us/fault',
  fork: 'us/fork',
};

/** Whether a measure has a value for a config: the cr3 cache exists only under kvm-paravirt (its hit rate is null elsewhere), previous roots only in the modes that keep them. */
export function measureApplies(m: string, cfg: SimConfig): boolean {
  if (m === 'hitRate') return MODE_TRAITS[cfg.mode].paravirt;
  if (m === 'rootMissesPerSwitch' || m === 'rootFreesPerSwitch') return MODE_TRAITS[cfg.mode].shadow === 'prev-roots';
  return true;
}

/** Does `cfg` have the values of a plot's `where`? */
export const inWhere = (def: PlacedPlot, cfg: SimConfig): boolean => Object.entries(def.where ?? {}).every(([k, v]) => cfg[k as keyof SimConfig] === v);

/** The configs a plot draws. */
export const plottedConfigs = (def: PlacedPlot, configs: readonly SimConfig[]): SimConfig[] => configs.filter((c) => measureApplies(def.y, c) && inWhere(def, c));

/** The config fields a plot places: x, series, facet. */
export const placedFields = (def: PlacedPlot): (keyof SimConfig)[] => [def.x, ...(def.series ? [def.series] : []), ...(def.facet ? [def.facet] : [])];

const valuesOf = (configs: readonly SimConfig[], f: keyof SimConfig): string[] => [...new Set(configs.map((c) => String(c[f])))];

/**
 * The first problem of an experiment's plots, as the field of the file and one line; undefined if none.
 * With `seeds`, the seed is the replicate (averaged), not a field to place.
 */
export function plotProblem(exp: { plots?: readonly PlacedPlot[]; seeds?: number }, configs: readonly SimConfig[]): { field: string; detail: string } | undefined {
  for (const [i, def] of (exp.plots ?? []).entries()) {
    const name = def.file ?? `${def.y}-vs-${def.x}`;
    const subset = plottedConfigs(def, configs);
    const placed = placedFields(def);
    const free = CONFIG_FIELDS.filter((f) => !placed.includes(f) && !(exp.seeds !== undefined && f === 'seed'));
    // Configs drawn at one place (x, series, facet) must be one config.
    const at = new Map<string, SimConfig[]>();
    for (const c of subset) {
      const k = JSON.stringify(placed.map((f) => c[f]));
      const list = at.get(k);
      if (list) list.push(c);
      else at.set(k, [c]);
    }
    for (const group of at.values()) {
      const field = free.find((f) => new Set(group.map((c) => c[f])).size > 1);
      if (field === undefined) continue;
      const values = valuesOf(subset, field);
      const hint = field === 'seed' ? '; or give seeds: N to average over seeds 1..N' : '';
      return {
        field: `plots[${i}]`,
        detail: `plot ${name} draws ${field} = ${values.join(', ')} as one point; expected ${field} as its x, series or facet (x is ${def.x}${def.series ? `, series ${def.series}` : ''}${def.facet ? `, facet ${def.facet}` : ''})${hint}`,
      };
    }
    if (def.y === 'metric') {
      const panels = new Map<string, Set<string>>();
      for (const c of subset) {
        const k = def.facet ? String(c[def.facet]) : '';
        const units = panels.get(k) ?? new Set<string>();
        units.add(METRIC_UNITS[c.workload]);
        panels.set(k, units);
      }
      for (const units of panels.values()) {
        if (units.size > 1) {
          return { field: `plots[${i}]`, detail: `plot ${name} puts the metric in ${[...units].join(' and ')} on one y axis; expected facet: workload (a panel per unit)` };
        }
      }
    }
    if (def.facet && (def.facet === def.x || def.facet === def.series)) {
      return { field: `plots[${i}].facet`, detail: `${def.facet} is already the plot's ${def.facet === def.x ? 'x' : 'series'}; expected another field` };
    }
  }
  return undefined;
}
