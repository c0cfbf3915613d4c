/** `vcpusim queue status|drain URL`: the job counts of a queue and its workers, and removing the jobs that wait (queue/status.ts). */
import { SCHEMA_VERSION } from '../../shared/stats.js';
import { ok, type Outcome } from '../cli/outcome.js';
import { checkReachable, parseQueueUrl, queueTarget } from '../queue/url.js';

export interface QueueCommandOptions {
  queueName: string;
  json: boolean;
}

export async function queueCommand(action: 'status' | 'drain', url: string, o: QueueCommandOptions): Promise<Outcome> {
  const target = queueTarget(parseQueueUrl(url, `queue ${action}`), o.queueName);
  await checkReachable(target, `queue ${action}`);
  const { drainQueue, formatStatus, queueStatus } = await import('../queue/status.js');
  if (action === 'status') {
    const s = await queueStatus(target);
    return ok(o.json ? JSON.stringify({ schemaVersion: SCHEMA_VERSION, ...s }, null, 2) + '\n' : formatStatus(s));
  }
  const { before, after } = await drainQueue(target);
  const removed = before.waiting + before.delayed + before.prioritized - (after.waiting + after.delayed + after.prioritized);
  return ok(o.json ? JSON.stringify({ schemaVersion: SCHEMA_VERSION, removed, ...after }, null, 2) + '\n' : `removed ${removed} waiting job${removed === 1 ? '' : 's'}; ` + formatStatus(after));
}
