/**
 * The command-line pieces of queue mode: `--queue`/`--queue-name` of sweep and
 * reproduce, `vcpusim worker` and `vcpusim queue status|drain`.
 */
import type { Command } from 'commander';
import { SCHEMA_VERSION } from '../../shared/stats.js';
import { UsageError } from '../errors.js';
// bullmq and ioredis load only when a queue command runs (not for --help or list).
import { DEFAULT_LOCK_MS } from './lock.js';
import type { QueueRunOptions } from './producer.js';
import type { RunnerOptions, RunOutcome } from '../runner.js';
import type { SimConfig } from '../../shared/config.js';
import { DEFAULT_QUEUE_NAME, checkReachable, parseQueueName, parseQueueUrl, queueTarget, type QueueTarget } from './url.js';

/** The options sweep and reproduce take to run through a queue. */
export function addQueueOptions(cmd: Command): Command {
  return cmd
    .option('--queue <url>', 'run the configs as jobs on this Redis queue (redis://host:port), taken by `vcpusim worker` processes', (raw: string) => parseQueueUrl(raw))
    .option('--queue-name <name>', `name of the queue on the server (default ${DEFAULT_QUEUE_NAME})`, parseQueueName);
}

/** The queue a sweep or reproduce runs through (checked to answer), or undefined for the local pool. */
export async function queueOf(opts: Record<string, unknown>): Promise<QueueTarget | undefined> {
  const url = opts.queue as string | undefined;
  const name = opts.queueName as string | undefined;
  const workers = opts.workers as number | undefined;
  if (url === undefined) {
    if (name !== undefined) throw new UsageError({ option: '--queue-name', value: name, allowed: 'it applies with --queue', detail: `${name} has no effect without --queue; it applies with --queue` });
    return undefined;
  }
  if (workers !== undefined) throw new UsageError({ option: '--workers', value: workers, allowed: 'it applies without --queue', detail: `${workers} has no effect with --queue (the runs go to \`vcpusim worker\` processes, which take --workers); it applies without --queue` });
  const target = queueTarget(url, name ?? DEFAULT_QUEUE_NAME);
  await checkReachable(target);
  return target;
}

/** The queue's runner (producer.ts), loading bullmq on its first call. */
export function queueRunner(target: QueueTarget, qopts: QueueRunOptions = {}) {
  return async (configs: readonly SimConfig[], opts: RunnerOptions = {}): Promise<RunOutcome[]> => (await import('./producer.js')).queueRunner(target, qopts)(configs, opts);
}

const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

export function addQueueCommands(program: Command, state: { code: number }, workerOption: (raw: string) => number, maxWorkers: number): void {
  const queueArg = (cmd: Command) => cmd.option('--queue-name <name>', `name of the queue on the server (default ${DEFAULT_QUEUE_NAME})`, parseQueueName);

  queueArg(
    program
      .command('worker')
      .description('take jobs from a queue that `sweep --queue` or `reproduce --queue` fills, and run them on this machine')
      .requiredOption('--queue <url>', 'the Redis queue (redis://host:port)', (raw: string) => parseQueueUrl(raw))
      .option('--workers <n>', `worker threads, one job each (default: one per core; at most ${maxWorkers})`, workerOption)
      .option('--lock-ms <ms>', `job lock: renewed every half of it while a job runs; a worker silent this long is taken for dead (default ${DEFAULT_LOCK_MS})`, (raw: string) => {
        const n = Number(raw);
        if (!/^\d+$/.test(raw) || n < 500 || n > 3_600_000) throw new UsageError({ option: '--lock-ms', value: raw, allowed: 'an integer from 500 to 3600000' });
        return n;
      }),
  )
    .addHelpText('after', '\nExamples:\n  vcpusim worker --queue redis://10.0.0.5:6379\n  vcpusim worker --queue redis://127.0.0.1:6379 --workers 2\n\nSIGINT/SIGTERM: finish the running jobs, then exit (a second signal stops at once; the jobs are run elsewhere).')
    .action(async (opts: Record<string, unknown>) => {
      const target = queueTarget(String(opts.queue), (opts.queueName as string | undefined) ?? DEFAULT_QUEUE_NAME);
      await checkReachable(target);
      const { defaultWorkers } = await import('../pool.js');
      const threads = Math.min((opts.workers as number | undefined) ?? defaultWorkers(), maxWorkers);
      const log = (line: string) => process.stderr.write(`worker: ${line}\n`);
      const { startQueueWorker } = await import('./consumer.js');
      const w = await startQueueWorker(target, { threads, lockMs: opts.lockMs as number | undefined, log });
      log(`taking jobs from queue ${target.name} at ${target.url} on ${threads} thread${threads > 1 ? 's' : ''}`);
      let signals = 0;
      const handler = (signal: keyof typeof SIGNAL_EXIT) => {
        state.code = SIGNAL_EXIT[signal];
        if (signals++ === 0) {
          log(`${signal}: finishing ${w.active()} running job${w.active() === 1 ? '' : 's'}, taking no more (${signal} again stops at once)`);
          void w.close(false);
        } else {
          log(`${signal}: stopping now; the running jobs are run again by another worker`);
          void w.close(true);
        }
      };
      const on = { SIGINT: () => handler('SIGINT'), SIGTERM: () => handler('SIGTERM') };
      process.on('SIGINT', on.SIGINT);
      process.on('SIGTERM', on.SIGTERM);
      try {
        await w.closed;
      } finally {
        process.removeListener('SIGINT', on.SIGINT);
        process.removeListener('SIGTERM', on.SIGTERM);
      }
      log('closed');
    });

  const queue = program.command('queue').description('the state of a queue: status, drain');
  for (const [name, description] of [
    ['status', 'job counts of the queue and the workers connected'],
    ['drain', 'remove the jobs that wait (running jobs finish; finished ones stay to be collected)'],
  ] as const) {
    queueArg(queue.command(name).argument('<url>', 'the Redis queue (redis://host:port)').description(description).option('--json', 'print one JSON document')).action(async (url: string, opts: Record<string, unknown>) => {
      const target = queueTarget(parseQueueUrl(url, `queue ${name}`), (opts.queueName as string | undefined) ?? DEFAULT_QUEUE_NAME);
      await checkReachable(target, `queue ${name}`);
      if (name === 'status') {
        const { queueStatus, formatStatus } = await import('./status.js');
        const s = await queueStatus(target);
        process.stdout.write(opts.json ? JSON.stringify({ schemaVersion: SCHEMA_VERSION, ...s }, null, 2) + '\n' : formatStatus(s));
      } else {
        const { drainQueue, formatStatus } = await import('./status.js');
        const { before, after } = await drainQueue(target);
        const removed = before.waiting + before.delayed + before.prioritized - (after.waiting + after.delayed + after.prioritized);
        if (opts.json) process.stdout.write(JSON.stringify({ schemaVersion: SCHEMA_VERSION, removed, ...after }, null, 2) + '\n');
        else process.stdout.write(`removed ${removed} waiting job${removed === 1 ? '' : 's'}; ` + formatStatus(after));
      }
    });
  }
}
