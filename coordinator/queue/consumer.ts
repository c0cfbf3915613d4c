/**
 * `vcpusim worker`: takes jobs from the queue and runs them on this machine's threads
 * (execution/local.ts), as many at once as it has threads. The simulation runs in the
 * pool's threads, so this thread's event loop stays free and BullMQ renews each job's
 * lock (every lockDuration/2) however long a run takes; a worker that dies (kill -9)
 * stops renewing, and after lockDuration another worker's stalled check puts its jobs
 * back in the queue.
 *
 * A job whose config was keyed under another model version is refused for good (this
 * worker would store figures of another model under the key); a config the simulation
 * refuses (ConfigError) fails at once, without retries, as in runner.ts.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { ConfigError } from '../../shared/errors.js';
import { MODEL_VERSION } from '../../worker/model.js';
import { flagOf } from '../../shared/config-fields.js';
import { LocalRunner } from '../execution/local.js';
import { configKey } from '../store/record.js';
import { configOf, jobReturn, type JobData, type JobReturn } from './jobs.js';
import { DEFAULT_LOCK_MS } from './lock.js';
import { workerConnection, type QueueTarget } from './url.js';

export interface QueueWorkerOptions {
  threads: number;
  lockMs?: number;
  /** One line per job and event (stderr). */
  log: (line: string) => void;
}

export interface RunningWorker {
  /** Stop taking jobs; `force` abandons the running ones (their locks lapse and they are run elsewhere). */
  close(force: boolean): Promise<void>;
  /** Settles when the worker has closed. */
  closed: Promise<void>;
  active(): number;
}

export async function startQueueWorker(target: QueueTarget, opts: QueueWorkerOptions): Promise<RunningWorker> {
  const runner = new LocalRunner({ threads: opts.threads }).start();
  const lockDuration = opts.lockMs ?? DEFAULT_LOCK_MS;
  let running = 0;
  const processor = async (job: Job<JobData, JobReturn>): Promise<JobReturn> => {
    if (job.data.modelVersion !== MODEL_VERSION) throw new UnrecoverableError(`the job is keyed for model ${job.data.modelVersion}; this worker runs ${MODEL_VERSION}`);
    const config = configOf(job.data);
    if (configKey(config) !== job.id) throw new UnrecoverableError(`the job's id ${String(job.id)} is not the key of its config (${configKey(config)})`);
    running++;
    opts.log(`took ${job.id} (attempt ${job.attemptsMade + 1})`);
    try {
      const { result, hostSeconds } = await runner.runOne(config);
      opts.log(`ran ${job.id} in ${hostSeconds.toFixed(2)} s`);
      return jobReturn(result, hostSeconds);
    } catch (err) {
      if (err instanceof ConfigError) throw new UnrecoverableError(`${flagOf(err.field)}: ${err.detail}`);
      throw err;
    } finally {
      running--;
    }
  };
  const worker = new Worker<JobData, JobReturn>(target.name, processor, {
    connection: workerConnection(target),
    concurrency: opts.threads,
    lockDuration,
    stalledInterval: lockDuration,
    // A job may lose its worker twice before it counts as failed.
    maxStalledCount: 2,
  });
  worker.on('failed', (job, err) => opts.log(`failed ${job?.id ?? '?'}: ${err.message}`));
  worker.on('stalled', (jobId) => opts.log(`stalled ${jobId}: its worker stopped renewing the lock; queued again`));
  worker.on('error', (err) => opts.log(`queue error: ${err.message}`));
  let closing: Promise<void> | undefined;
  let settleClosed!: () => void;
  const closed = new Promise<void>((res) => (settleClosed = res));
  await worker.waitUntilReady();
  return {
    active: () => running,
    closed,
    close(force) {
      const c = (async () => {
        await worker.close(force);
        await runner.close();
      })();
      closing = closing ? closing.then(() => c) : c;
      void closing.then(settleClosed, settleClosed);
      return closing;
    },
  };
}
