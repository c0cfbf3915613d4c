/**
 * Runs the configs of an experiment or sweep through the runner, storing each finished
 * run at once. Configs whose record is already stored are skipped (unless `fresh`), so an
 * interrupted sweep resumes where it stopped; a failed run is reported, not stored.
 * Whatever sits under a config's record name and is not its record is reported once,
 * run again and replaced; a directory in the way that holds files stops the sweep before
 * its first run (see store.ts).
 */
import type { SimConfig } from '../shared/config.js';
import { FileProblem } from './files.js';
import type { SimPool } from './pool.js';
import { runAll, type RunOutcome, type RunnerOptions } from './runner.js';
import type { ResultStore, RunRecord } from './store.js';

export interface ExecuteOptions {
  store: ResultStore;
  /** Ignore stored records and overwrite them. */
  fresh?: boolean;
  workers?: number;
  retries?: number;
  /** Threads to run on (the caller owns it); without one, runAll makes its own or runs in this thread. */
  pool?: SimPool;
  /** Makes the pool to run on, once it is known how many configs must run (none: no pool is made). The caller destroys it. */
  poolFor?: (runs: number) => SimPool;
  /** Called for every config: 'skipped' before any run, then 'ran'/'failed' as runs finish. */
  onConfig?: (status: 'skipped' | 'ran' | 'failed', config: SimConfig, outcome?: RunOutcome) => void | Promise<void>;
  onRetry?: RunnerOptions['onRetry'];
  /** A file under a config's record name that is not its record (it is run again and replaced), before any run. */
  onInvalid?: (path: string, reason: string) => void;
  /** Where the runs go (runAll's contract): default runAll, this machine's threads; queue/producer.ts sends them to a queue. */
  run?: (configs: readonly SimConfig[], opts: RunnerOptions) => Promise<RunOutcome[]>;
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
  const found = configs.map((c) => store.lookup(c));
  const blocked = found.find((l) => l.kind === 'blocked');
  if (blocked) throw new FileProblem(blocked.path, blocked.reason);
  if (!opts.fresh) for (const l of found) if (l.kind === 'invalid') opts.onInvalid?.(l.path, l.reason);
  const records: (RunRecord | undefined)[] = found.map((l) => (!opts.fresh && l.kind === 'record' ? l.record : undefined));
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
  await (opts.run ?? runAll)(
    todo.map((i) => configs[i]!),
    {
      workers: opts.workers,
      retries: opts.retries,
      pool: opts.pool ?? opts.poolFor?.(todo.length),
      onRetry: opts.onRetry,
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
