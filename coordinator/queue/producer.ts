/**
 * The coordinator's side of queue mode: instead of running configs on its own threads it
 * adds one job per config (job id = store key) and collects each result as a worker
 * returns it, through the same `onOutcome` the local pool reports to, so execute.ts
 * stores it the same way (atomically, as it arrives).
 *
 * Delivery is at least once: a result may be seen twice (the 'completed' event and the
 * periodic check of the jobs' states, or a job finished again after a stall), and every
 * config is reported once, the first time; later copies are dropped by key. A job already
 * completed when the coordinator attaches (it was stopped and started again) is
 * collected, not run again; one that had failed for good is tried again, as a local
 * rerun would. Progress comes from the queue's events.
 *
 * A worker's result is trusted no more than a file on disk: it must pass the store's
 * checks for its config (store/record.ts recordProblem: a complete result of this model
 * version, of this config), or it is refused with its reason and the job run again (up
 * to the retries, then the run fails with that reason). A job that vanishes from Redis
 * before it finished (`queue drain`, a flush, a restart without persistence, eviction)
 * fails with that reason, so the sweep ends (exit 1, every finished record kept) instead
 * of waiting for it; running the command again queues it again. While no worker is
 * connected the coordinator says so (onNotice), once, and again when one connects.
 */
import { Job, Queue, QueueEvents } from 'bullmq';
import type { SimConfig } from '../../shared/config.js';
import { retriesOf, type RunAllOptions, type RunOutcome, type Runner } from '../execution/runner.js';
import { MODEL_VERSION } from '../../worker/model.js';
import { configKey, recordProblem } from '../store/record.js';
import { JOB_NAME, jobData, jobOptions, resultOf, type JobData, type JobReturn } from './jobs.js';
import { coordinatorConnection, DEFAULT_QUEUE_NAME, type QueueTarget } from './url.js';

/** How often the states of the jobs not yet reported are read (events may be missed while a connection is re-made). */
const RECONCILE_MS = 2000;
const ADD_CHUNK = 500;

export interface QueueRunOptions {
  /** Remove a finished job of the same key first, so that it runs again (--fresh). */
  fresh?: boolean;
}

/** The runner (execution/runner.ts) that runs the configs through the queue: each a job for `vcpusim worker` processes. */
export class QueueRunner implements Runner {
  constructor(
    readonly target: QueueTarget,
    readonly qopts: QueueRunOptions = {},
  ) {}

  /** Connections are opened and closed by each runAll. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  async runAll(configs: readonly SimConfig[], opts: RunAllOptions = {}): Promise<RunOutcome[]> {
    const { target, qopts } = this;
    if (opts.overrides) throw new Error('cost overrides are not sent through a queue');
    const retries = retriesOf(opts);
    const outcomes = new Array<RunOutcome>(configs.length);
    if (configs.length === 0) return outcomes;
    const connection = coordinatorConnection(target);
    const queue = new Queue<JobData, JobReturn, string>(target.name, { connection });
    const events = new QueueEvents(target.name, { connection });
    // Either side may report an error between calls (a lost connection); the calls themselves reject.
    let lost: Error | undefined;
    queue.on('error', (err) => (lost ??= err));
    events.on('error', (err) => (lost ??= err));

    const pending = new Map<string, number>();
    configs.forEach((c, i) => pending.set(configKey(c), i));
    let reported: Promise<void> = Promise.resolve();
    let reportError: { err: unknown } | undefined;
    let settle!: () => void;
    const allDone = new Promise<void>((res) => (settle = res));
    const report = (key: string, make: (index: number) => RunOutcome): void => {
      const index = pending.get(key);
      if (index === undefined) return; // not ours, or a duplicate
      pending.delete(key);
      const o = make(index);
      outcomes[index] = o;
      reported = reported.then(async () => {
        try {
          await opts.onOutcome?.(o);
        } catch (err) {
          reportError ??= { err };
        }
      });
      if (pending.size === 0) settle();
    };
    /** Results refused so far, by key: each refusal runs the job again, up to the retries. */
    const refused = new Map<string, number>();
    let rerunning: Promise<void> = Promise.resolve();
    const completed = (key: string, rv: unknown, attempts: number): void => {
      const index = pending.get(key);
      if (index === undefined) return;
      const config = configs[index]!;
      let problem: string | undefined;
      let got: ReturnType<typeof resultOf> | undefined;
      try {
        got = resultOf(rv);
        const p = recordProblem({ key, modelVersion: MODEL_VERSION, config, hostSeconds: got.hostSeconds, result: got.result }, config, key);
        if (p !== undefined) problem = `the worker's result ${p}`;
      } catch (err) {
        problem = err instanceof Error ? err.message : String(err);
      }
      if (problem === undefined && got) return report(key, () => ({ index, config, result: got.result, hostSeconds: got.hostSeconds, attempts }));
      const n = (refused.get(key) ?? 0) + 1;
      refused.set(key, n);
      if (n > retries) return report(key, () => ({ index, config, error: n > 1 ? `${problem} (${n} attempts)` : problem, attempts: n }));
      opts.onRetry?.(config, n, retries + 1, `${problem}; refused`);
      // Run it again: the finished job goes, the same job (same id) is queued anew.
      rerunning = rerunning.then(async () => {
        try {
          await queue.remove(key);
          await queue.add(JOB_NAME, jobData(config), jobOptions(config, retries));
        } catch (err) {
          lost ??= err instanceof Error ? err : new Error(String(err));
        }
      });
    };
    const failed = (key: string, reason: string, attempts: number): void =>
      report(key, (index) => ({ index, config: configs[index]!, error: attempts > 1 ? `${reason} (${attempts} attempts)` : reason, attempts }));

    events.on('completed', ({ jobId, returnvalue }) => {
      if (pending.has(jobId)) completed(jobId, returnvalue, 1);
    });
    events.on('failed', ({ jobId, failedReason }) => {
      if (!pending.has(jobId)) return;
      // The attempts made are on the job, not in the event.
      void Job.fromId<JobData, JobReturn>(queue, jobId).then(
        (job) => failed(jobId, failedReason, job?.attemptsMade ?? 1),
        () => failed(jobId, failedReason, 1),
      );
    });
    events.on('stalled', ({ jobId }) => {
      const i = pending.get(jobId);
      if (i !== undefined) opts.onStalled?.(configs[i]!);
    });

    /** Read the state of every job still pending; report the finished ones. `attach`: a job failed before this run is tried again. */
    let workersSeen: boolean | undefined;
    const reconcile = async (attach: boolean): Promise<void> => {
      await rerunning;
      const keys = [...pending.keys()];
      const jobs = await Promise.all(keys.map((k) => Job.fromId<JobData, JobReturn>(queue, k)));
      for (let i = 0; i < keys.length; i++) {
        const job = jobs[i];
        if (!job && pending.has(keys[i]!)) failed(keys[i]!, 'removed from the queue before it finished (drained, flushed or evicted); run the same command again to queue it again', 1);
        if (!job?.id || !pending.has(job.id)) continue;
        if (job.finishedOn && job.returnvalue) completed(job.id, job.returnvalue, job.attemptsMade || 1);
        else if (job.finishedOn && job.failedReason) {
          if (attach) await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
          else failed(job.id, job.failedReason, job.attemptsMade || 1);
        }
      }
      if (pending.size === 0) return;
      const workers = (await queue.getWorkersCount()) > 0;
      if (workers !== workersSeen && !(workers && workersSeen === undefined)) {
        opts.onNotice?.(
          workers
            ? `a worker connected to ${target.url} (queue ${target.name}); ${pending.size} runs to go`
            : `no worker is connected to ${target.url} (queue ${target.name}): ${pending.size} runs wait for one (vcpusim worker --queue ${target.url}${target.name === DEFAULT_QUEUE_NAME ? '' : ` --queue-name ${target.name}`})`,
        );
      }
      workersSeen = workers;
    };

    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
      if (qopts.fresh) {
        for (const key of pending.keys()) {
          const state = await queue.getJobState(key);
          if (state === 'completed' || state === 'failed') await queue.remove(key);
        }
      }
      const list = configs.map((c) => ({ name: JOB_NAME, data: jobData(c), opts: jobOptions(c, retries) }));
      for (let i = 0; i < list.length; i += ADD_CHUNK) await queue.addBulk(list.slice(i, i + ADD_CHUNK));
      await reconcile(true);
      // Between the reads, the events report; a read catches what they missed.
      const tick = (): void => {
        timer = setTimeout(() => {
          if (lost && pending.size) return settle();
          reconcile(false).then(tick, (err: unknown) => {
            lost ??= err instanceof Error ? err : new Error(String(err));
            settle();
          });
        }, RECONCILE_MS);
      };
      if (pending.size) {
        tick();
        await allDone;
      }
      await reported;
      if (pending.size) throw new Error(`lost the connection to Redis at ${target.url} (--queue): ${lost?.message ?? 'unknown error'}; ${pending.size} runs unfinished (run the same command again to re-attach)`);
    } finally {
      clearTimeout(timer);
      await reported;
      await Promise.allSettled([events.close(), queue.close()]);
    }
    if (reportError) throw reportError.err;
    return outcomes;
  }
}
