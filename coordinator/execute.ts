/**
 * Runs the configs of an experiment or sweep through the runner, storing each finished
 * run at once. Configs whose record is already stored are skipped (unless `fresh`), so an
 * interrupted sweep resumes where it stopped; a failed run is reported, not stored.
 */
import type { SimConfig } from '../shared/config.js';
import { runAll, type RunOutcome } from './runner.js';
import type { ResultStore, RunRecord } from './store.js';

export interface ExecuteOptions {
  store: ResultStore;
  /** Ignore stored records and overwrite them. */
  fresh?: boolean;
  workers?: number;
  retries?: number;
  /** Called for every config: 'skipped' before any run, then 'ran'/'failed' as runs finish. */
  onConfig?: (status: 'skipped' | 'ran' | 'failed', config: SimConfig, outcome?: RunOutcome) => void | Promise<void>;
}

export interface ExecuteSummary {
  total: number;
  skipped: number;
  ran: number;
  failed: { config: SimConfig; error: string }[];
  /** The record of each config, in input order (undefined where the run failed). */
  records: (RunRecord | undefined)[];
}

export async function executeConfigs(configs: readonly SimConfig[], opts: ExecuteOptions): Promise<ExecuteSummary> {
  const { store } = opts;
  const records: (RunRecord | undefined)[] = configs.map((c) => (opts.fresh ? undefined : store.get(c)));
  const todo: number[] = [];
  let skipped = 0;
  for (let i = 0; i < configs.length; i++) {
    if (records[i]) {
      skipped++;
      await opts.onConfig?.('skipped', configs[i]!);
    } else todo.push(i);
  }
  const summary: ExecuteSummary = { total: configs.length, skipped, ran: 0, failed: [], records };
  if (todo.length === 0) return summary;
  await runAll(
    todo.map((i) => configs[i]!),
    {
      workers: opts.workers,
      retries: opts.retries,
      onOutcome: async (o) => {
        const i = todo[o.index]!;
        if (o.result) {
          records[i] = store.put(o.result, o.hostSeconds, configs[i]);
          summary.ran++;
          await opts.onConfig?.('ran', configs[i]!, o);
        } else {
          summary.failed.push({ config: configs[i]!, error: o.error ?? 'unknown error' });
          await opts.onConfig?.('failed', configs[i]!, o);
        }
      },
    },
  );
  return summary;
}
