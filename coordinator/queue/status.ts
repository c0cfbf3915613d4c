/** `vcpusim queue status|drain URL`: the job counts of the queue, and removing the jobs that wait. */
import { Queue } from 'bullmq';
import { coordinatorConnection, type QueueTarget } from './url.js';

export interface QueueStatus {
  url: string;
  queue: string;
  workers: number;
  waiting: number;
  active: number;
  delayed: number;
  prioritized: number;
  completed: number;
  failed: number;
}

async function withQueue<T>(target: QueueTarget, f: (q: Queue) => Promise<T>): Promise<T> {
  const q = new Queue(target.name, { connection: coordinatorConnection(target) });
  try {
    return await f(q);
  } finally {
    await q.close();
  }
}

async function statusOf(target: QueueTarget, q: Queue): Promise<QueueStatus> {
  const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
  return {
    url: target.url,
    queue: target.name,
    workers: await q.getWorkersCount(),
    waiting: c.waiting ?? 0,
    active: c.active ?? 0,
    delayed: c.delayed ?? 0,
    prioritized: c.prioritized ?? 0,
    completed: c.completed ?? 0,
    failed: c.failed ?? 0,
  };
}

export const queueStatus = (target: QueueTarget): Promise<QueueStatus> => withQueue(target, (q) => statusOf(target, q));

/** Remove the waiting and delayed jobs (running ones finish; finished ones stay to be collected). Returns the counts before and after. */
export const drainQueue = (target: QueueTarget): Promise<{ before: QueueStatus; after: QueueStatus }> =>
  withQueue(target, async (q) => {
    const before = await statusOf(target, q);
    await q.drain(true);
    return { before, after: await statusOf(target, q) };
  });

export function formatStatus(s: QueueStatus): string {
  return `queue ${s.queue} at ${s.url}: ${s.workers} workers connected; ${s.waiting + s.prioritized} waiting, ${s.active} running, ${s.delayed} delayed, ${s.completed} completed, ${s.failed} failed\n`;
}
