/**
 * The --queue URL of a Redis server (`redis://[user:password@]host[:port][/db]`, or
 * `rediss://` for TLS), as ioredis connection options, and the one quick check that the
 * server answers before anything is queued: one connection attempt, no retry loop.
 */
import type { ConnectionOptions } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { UsageError } from '../../shared/errors.js';

export const QUEUE_URL_ALLOWED = 'a Redis URL redis://host[:port][/db] (or rediss:// for TLS)';

/** Default queue name: one queue serves every experiment (a job's id is its config's store key). */
export const DEFAULT_QUEUE_NAME = 'vcpusim';

/** Where the queue lives: the URL as typed, its connection options and the queue's name. */
export interface QueueTarget {
  url: string;
  name: string;
  redis: RedisOptions;
}

/** Parse a --queue URL; a malformed one is a UsageError naming --queue. */
export function parseQueueUrl(raw: string, option = '--queue'): string {
  const bad = (why: string) => new UsageError({ option, value: raw, allowed: QUEUE_URL_ALLOWED, detail: `${JSON.stringify(raw)} ${why}; expected ${QUEUE_URL_ALLOWED}` });
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw bad('is not a URL');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw bad(`has the scheme ${u.protocol.replace(/:$/, '')}`);
  if (u.hostname === '') throw bad('names no host');
  if (u.search !== '' || u.hash !== '') throw bad('has a query or fragment');
  if (!/^\/?(\d{1,2})?$/.test(u.pathname)) throw bad('has a path that is not a database number');
  return raw;
}

/** A queue name: letters, digits, '-', '_', '.'. */
export function parseQueueName(raw: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(raw)) throw new UsageError({ option: '--queue-name', value: raw, allowed: "a name of letters, digits, '.', '_' and '-' (at most 100)" });
  return raw;
}

/** The ioredis options of a parsed URL. */
export function redisOptionsOf(url: string): RedisOptions {
  const u = new URL(url);
  const db = u.pathname.replace(/^\//, '');
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port ? Number(u.port) : 6379,
    ...(db ? { db: Number(db) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

export function queueTarget(url: string, name: string): QueueTarget {
  return { url, name, redis: redisOptionsOf(url) };
}

/** How long the reachability check waits for a connection. */
const CONNECT_TIMEOUT_MS = 3000;

/**
 * Connect once and PING; a server that does not answer is a UsageError naming --queue
 * and the URL (exit 2), within CONNECT_TIMEOUT_MS.
 */
export async function checkReachable(target: QueueTarget, option = '--queue'): Promise<void> {
  const { Redis } = await import('ioredis');
  // Database 0 first: a SELECT the server refuses is then an answer here, not a failed connection (ioredis would stay on 0).
  const { db, ...rest } = target.redis;
  const r = new Redis({ ...rest, lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, retryStrategy: () => null, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  let last: unknown;
  r.on('error', (err: unknown) => (last = err));
  try {
    await r.connect();
    await r.ping();
    if (db !== undefined) {
      try {
        await r.select(db);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        throw new UsageError({ option, value: target.url, allowed: 'a database number the server has', detail: `the Redis server at ${target.url} has no database ${db} (${why}); expected a database number the server has (0 to its \`databases\` setting - 1)` });
      }
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const e = (last ?? err) as NodeJS.ErrnoException;
    const why = e.code ?? e.message ?? String(e);
    throw new UsageError({ option, value: target.url, allowed: 'the URL of a running redis-server', detail: `cannot reach Redis at ${target.url} (${why}); expected the URL of a running redis-server` });
  } finally {
    r.disconnect();
  }
}

/**
 * Connection options of the coordinator's and status commands' connections: a server
 * lost for good ends them (about 10 s of reconnecting) instead of retrying forever.
 */
export function coordinatorConnection(target: QueueTarget): ConnectionOptions {
  return { ...target.redis, connectTimeout: CONNECT_TIMEOUT_MS, retryStrategy: (times: number) => (times > 20 ? null : 500) };
}

/** A worker's connection: it waits for its server, reconnecting for as long as it runs. */
export function workerConnection(target: QueueTarget): ConnectionOptions {
  const opts: RedisOptions = { ...target.redis, maxRetriesPerRequest: null };
  return opts as ConnectionOptions;
}

/** The queue a sweep or reproduce runs through (checked to answer), or undefined for this machine's threads. */
export async function queueOf(url: string | undefined, name: string | undefined, workers: number | undefined): Promise<QueueTarget | undefined> {
  if (url === undefined) {
    if (name !== undefined) throw new UsageError({ option: '--queue-name', value: name, allowed: 'it applies with --queue', detail: `${name} has no effect without --queue; it applies with --queue` });
    return undefined;
  }
  if (workers !== undefined) throw new UsageError({ option: '--workers', value: workers, allowed: 'it applies without --queue', detail: `${workers} has no effect with --queue (the runs go to \`vcpusim worker\` processes, which take --workers); it applies without --queue` });
  const target = queueTarget(url, name ?? DEFAULT_QUEUE_NAME);
  await checkReachable(target);
  return target;
}
