/**
 * `vcpusim worker`: takes jobs from the queue and runs them on this machine's threads
 * (execution/local.ts), as many at once as it has threads. The simulation runs in the
 * pool's threads, so this thread's event loop stays free and BullMQ renews each job's
 * lock (every lockDuration/2) however long a run takes; a worker that dies (kill -9)
 * stops renewing, and after lockDuration another worker's stalled check puts its jobs
 * back in the queue.
 *
 * A worker trusts no job: before anything is built, a job's data must be what a
 * coordinator of this model version puts there (jobs.ts), and its config must resolve
 * with the same schema, limits and scope rules as the command line's, be resolved already
 * (resolving it changes nothing) and be the config of the job's id. A job that is not is
 * failed for good with its reason (UnrecoverableError) and the worker goes on serving; so
 * is a config the simulation refuses (ConfigError), as in runner.ts.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { ConfigError } from '../../shared/errors.js';
import { MODEL_VERSION } from '../../worker/model.js';
import { flagOf } from '../../shared/config-fields.js';
import { LocalRunner } from '../execution/local.js';
import { resolveConfig, type SimConfig } from '../../shared/config.js';
import { canonicalJson, configKey } from '../store/record.js';
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

const refuse = (job: Job, why: string): never => {
  throw new UnrecoverableError(`refused job ${String(job.id)}: ${why}`);
};

/** The job's config, once the job is shown to be what a coordinator queues; else an UnrecoverableError with the reason. */
export function checkedJob(job: Job<JobData, JobReturn>): SimConfig {
  const d: unknown = job.data;
  if (typeof d !== 'object' || d === null || Array.isArray(d)) return refuse(job, 'its data is not an object');
  const { config: encoded, modelVersion } = d as Record<string, unknown>;
  if (typeof modelVersion !== 'string') return refuse(job, 'its data has no modelVersion');
  if (modelVersion !== MODEL_VERSION) return refuse(job, `it is keyed for model ${JSON.stringify(modelVersion.slice(0, 64))}; this worker runs ${MODEL_VERSION}`);
  if (typeof encoded !== 'string' || encoded.length === 0 || encoded.length > MAX_CONFIG_CHARS || !/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) {
    return refuse(job, `its config is not a base64 string of at most ${MAX_CONFIG_CHARS} characters`);
  }
  let raw: unknown;
  try {
    raw = configOf({ config: encoded, modelVersion });
  } catch {
    return refuse(job, 'its config is not msgpack');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return refuse(job, 'its config is not an object');
  let config: SimConfig;
  try {
    config = resolveConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) return refuse(job, `${flagOf(err.field)}: ${err.detail}`);
    return refuse(job, `its config does not resolve (${err instanceof Error ? err.message : String(err)})`);
  }
  if (canonicalJson(config) !== canonicalJson(raw)) return refuse(job, 'its config is not a resolved config (resolving it changes it)');
  if (configKey(config) !== job.id) return refuse(job, `its id is not the key of its config (${configKey(config)})`);
  return config;
}

/** A config's encoding is a few hundred bytes; anything much longer is not one. */
const MAX_CONFIG_CHARS = 16384;

export async function startQueueWorker(target: QueueTarget, opts: QueueWorkerOptions): Promise<RunningWorker> {
  const runner = new LocalRunner({ threads: opts.threads }).start();
  const lockDuration = opts.lockMs ?? DEFAULT_LOCK_MS;
  let running = 0;
  const processor = async (job: Job<JobData, JobReturn>): Promise<JobReturn> => {
    const config = checkedJob(job);
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
