/**
 * Runs the configs of an experiment or sweep through a runner (runner.ts: this machine's
 * threads or a queue), storing each finished run at once. Configs whose record is already stored are skipped (unless `fresh`), so an
 * interrupted sweep resumes where it stopped; a failed run is reported, not stored.
 * Whatever sits under a config's record name and is not its record is reported once,
 * run again and replaced; a directory in the way that holds files stops the sweep before
 * its first run (see store.ts).
 */
import type { SimConfig } from '../../shared/config.js';
import { FileProblem } from '../store/files.js';
import type { RunRecord } from '../store/record.js';
import type { ResultStore } from '../store/store.js';
import type { RunAllOptions, RunOutcome, Runner } from './runner.js';

export interface ExecuteOptions {
  store: ResultStore;
  /** Where the runs go: this machine's threads (local.ts) or a queue (queue/producer.ts). Made when it is known that something must run; the caller closes it. */
  runner: () => Runner;
  /** Ignore stored records and overwrite them. */
  fresh?: boolean;
  retries?: number;
  /** Called for every config: 'skipped' before any run, then 'ran'/'failed' as runs finish. */
  onConfig?: (status: 'skipped' | 'ran' | 'failed', config: SimConfig, outcome?: RunOutcome) => void | Promise<void>;
  onRetry?: RunAllOptions['onRetry'];
  onStalled?: RunAllOptions['onStalled'];
  onNotice?: RunAllOptions['onNotice'];
  /** A file under a config's record name that is not its record (it is run again and replaced), before any run. */
  onInvalid?: (path: string, reason: string) => void;
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
  await opts.runner().runAll(
    todo.map((i) => configs[i]!),
    {
      retries: opts.retries,
      onRetry: opts.onRetry,
      onStalled: opts.onStalled,
      onNotice: opts.onNotice,
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
