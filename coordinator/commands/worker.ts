/**
 * `vcpusim worker`: take jobs from a queue that `sweep --queue` or `reproduce --queue`
 * fills and run them on this machine's threads (queue/consumer.ts). SIGINT or SIGTERM
 * finishes the running jobs, then exits with the signal's code; a second signal stops at
 * once (the jobs are run again elsewhere).
 */
import { type Outcome, type StopSignal } from '../cli/outcome.js';
import { checkReachable, queueTarget } from '../queue/url.js';

export interface WorkerOptions {
  queue: string;
  queueName: string;
  workers: number;
  lockMs?: number;
}

export async function workerCommand(o: WorkerOptions): Promise<Outcome> {
  const target = queueTarget(o.queue, o.queueName);
  await checkReachable(target);
  const log = (line: string) => process.stderr.write(`worker: ${line}\n`);
  const { startQueueWorker } = await import('../queue/consumer.js');
  const w = await startQueueWorker(target, { threads: o.workers, lockMs: o.lockMs, log });
  let stoppedBy: StopSignal | undefined;
  const handler = (signal: StopSignal) => {
    if (stoppedBy === undefined) {
      stoppedBy = signal;
      log(`${signal}: finishing ${w.active()} running job${w.active() === 1 ? '' : 's'}, taking no more (${signal} again stops at once)`);
      void w.close(false);
    } else {
      stoppedBy = signal;
      log(`${signal}: stopping now; the running jobs are run again by another worker`);
      void w.close(true);
    }
  };
  const on = { SIGINT: () => handler('SIGINT'), SIGTERM: () => handler('SIGTERM') };
  process.on('SIGINT', on.SIGINT);
  process.on('SIGTERM', on.SIGTERM);
  // Said once the handlers are in place: from this line on, a signal finishes the jobs and exits with its code.
  log(`taking jobs from queue ${target.name} at ${target.url} on ${o.workers} thread${o.workers > 1 ? 's' : ''}`);
  try {
    await w.closed;
  } finally {
    process.removeListener('SIGINT', on.SIGINT);
    process.removeListener('SIGTERM', on.SIGTERM);
  }
  log('closed');
  return { status: stoppedBy ?? 'ok' };
}
