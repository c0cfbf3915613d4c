/**
 * `vcpusim run`: simulate one configuration (or seeds 1..n of it) and print its
 * statistics, with an exit report if asked. The run is always in a worker thread, so that
 * this thread takes a Ctrl-C at once; a VM of several vCPUs may be split over threads
 * (the statistics are the same for any number); on a terminal a progress line, or with
 * --live a kvm_stat-style view, is drawn on stderr while it goes.
 */
import { checkGivenApply, resolveConfig, type SimConfig } from '../../shared/config.js';
import type { RunResult } from '../../shared/stats.js';
import { UsageError } from '../../shared/errors.js';
import { takeEarly } from '../cli/early.js';
import type { LocalRunner } from '../execution/local.js';
import { ok, stopNow, stopOnSignals, type Outcome } from '../cli/outcome.js';
import { progressWanted } from '../cli/progress.js';
import { formatReplicates, replicatesDoc } from '../cli/replicates-view.js';
import { formatSummary, type SplitInfo } from '../cli/summary.js';
import { workersWarning, type PlacementKind } from '../execution/limits.js';
import { reportExits, type ExitView } from '../reports/exits.js';
import { seedList } from '../reports/replicates.js';

export interface RunOptions {
  /** The config fields the command line gave. */
  given: Record<string, unknown>;
  /** --exits: an exit report follows the summary. */
  exits: boolean;
  /** The exit report's view for a VM of `vcpus`; throws on an exit option without --exits, or a vCPU the VM lacks. */
  exitView: (vcpus: number) => ExitView;
  json: boolean;
  /** Worker threads to spread the VM over (default 1). */
  workers?: number;
  placement: PlacementKind;
  /** --placement was typed (it has no effect on one thread). */
  placementGiven: boolean;
  seeds?: number;
  live: boolean;
}

export async function runCommand(o: RunOptions): Promise<Outcome> {
  const asked = o.workers ?? 1;
  // A plain run's thread was started before the command line was parsed (cli/early.ts): it
  // boots while this thread checks the config. Over several threads they start once the
  // config is known. A config refused stops an early thread again (finally, below).
  const early = takeEarly();
  let runner: LocalRunner | undefined;
  let unhook = (): void => {};
  const done: { result: RunResult; hostSeconds: number; split?: SplitInfo }[] = [];
  let exitView: ExitView;
  try {
    if (o.seeds !== undefined && o.given.seed !== undefined) {
      throw new UsageError({ option: '--seeds', value: o.seeds, allowed: 'seeds 1..n, without --seed', detail: `${o.seeds} runs seeds 1-${o.seeds}, and --seed ${JSON.stringify(o.given.seed)} was given as well; expected one of --seed and --seeds` });
    }
    const cfg = resolveConfig(o.given);
    // A parameter this workload or mode ignores is a mistake: say what it applies to.
    checkGivenApply(cfg, Object.keys(o.given));
    exitView = o.exitView(cfg.vcpus);
    if (asked > cfg.vcpus) {
      throw new UsageError({ option: '--workers', value: asked, allowed: `at most --vcpus (${cfg.vcpus})`, detail: `${asked} is more threads than the VM has vCPUs; expected at most ${cfg.vcpus} (--vcpus)` });
    }
    if (asked === 1 && o.placementGiven) {
      throw new UsageError({ option: '--placement', value: o.placement, allowed: 'it applies with --workers 2 or more', detail: `${o.placement} has no effect on one thread; it applies with --workers 2 or more` });
    }
    const warning = workersWarning(asked);
    if (warning !== null) process.stderr.write(`${warning}\n`);
    // On a terminal (not --json, not --live): a progress line on stderr (run-progress.ts).
    const progressLine = progressWanted(o.json) && !o.live;
    // The views load only when they are drawn (the live view's and the progress line's modules).
    const [{ placeVcpus }, live, progress] = await Promise.all([
      import('../execution/split.js'),
      o.live ? Promise.all([import('../execution/live.js'), import('../cli/live-view.js')]) : undefined,
      progressLine ? import('../cli/run-progress.js') : undefined,
    ]);
    const threads = (await early) ?? new (await import('../execution/local.js')).LocalRunner({ threads: asked });
    runner = threads;
    // With --live, SIGINT cancels the run at a quantum boundary (live-view.ts); otherwise it stops the process at once.
    if (!o.live) unhook = stopOnSignals(o.json, (signal) => `interrupted by ${signal}: the run was stopped, nothing was written`, progress ? () => process.stderr.write(progress.CLEAR_LINE) : undefined);
    for (const c of o.seeds ? seedList(o.seeds).map((seed): SimConfig => ({ ...cfg, seed })) : [cfg]) {
      const placement = placeVcpus(c.vcpus, asked, o.placement);
      const r = live
        ? await live[1].runWithLiveView(threads, c, placement).catch(async (err: unknown) => {
            if (!(err instanceof live[0].RunCancelled)) throw err;
            await threads.close();
            return stopNow('SIGINT', 'interrupted by SIGINT: the run was cancelled at a quantum boundary, nothing was written', o.json);
          })
        : progress
          ? await progress.runWithProgressLine(threads, c, placement)
          : await threads.runVm(c, { placement });
      done.push({ result: r.result, hostSeconds: r.hostSeconds, ...(asked > 1 ? { split: { workers: asked, quanta: r.quanta } } : {}) });
    }
  } finally {
    unhook();
    await (runner ?? (await early?.catch(() => undefined)))?.close();
  }
  const exitReport = (r: RunResult) => reportExits([{ key: '', result: r }], exitView, 'table');
  if (o.seeds) return ok(o.json ? JSON.stringify(replicatesDoc(done.map((d) => d.result)), null, 2) + '\n' : formatReplicates(done, o.exits, exitReport));
  const { result, hostSeconds, split } = done[0]!;
  if (o.json) return ok(JSON.stringify(result, null, 2) + '\n');
  return ok(formatSummary(result, hostSeconds, split) + (o.exits ? '\n' + exitReport(result) : ''));
}
