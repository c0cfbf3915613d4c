/**
 * Faults of queue mode against a real redis-server: jobs drained, the database flushed or
 * the server restarted under a waiting coordinator; jobs another client put on the queue
 * with hostile payloads; results a worker forged; a database number the server does not
 * have. Each ends with every finished record kept and a clear outcome: never a wait
 * without end, never a record the coordinator did not ask for.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_NAME, jobReturn, type JobData, type JobReturn } from '../../coordinator/queue/jobs.js';
import { resolveConfig } from '../../shared/config.js';
import { decodeConfig } from '../../shared/codec.js';
import { MODEL_VERSION } from '../../worker/model.js';
import { simulate } from '../../worker/vm.js';
import { BIN, startCli, waitFor, type Child } from '../support/child.js';
import { records } from '../support/records.js';
import { privateRedis, testRedis, uniqueQueue, type PrivateRedis, type TestRedis } from '../support/redis.js';

const work = mkdtempSync(join(tmpdir(), 'vcpusim-qfault-'));
let redis: TestRedis;
let own: PrivateRedis;
const children: ChildProcess[] = [];
beforeAll(async () => {
  redis = await testRedis();
  own = await privateRedis();
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  redis?.stop();
  own?.stop();
  rmSync(work, { recursive: true, force: true });
});

const start = (args: string[]): Child => startCli(work, args, { track: children });
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: work, timeout: 60000 });
const connection = (url: string) => {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port), maxRetriesPerRequest: null };
};

const SMALL = ['--mode', 'kvm-trunk', '--tasks', '2', '--loops', '200', '--memory', '16'];
const sweep = (url: string, q: string, dir: string, ...more: string[]) => ['sweep', '--name', 's', '--results', join(work, dir), '--queue', url, '--queue-name', q, ...SMALL, ...more];

describe('queue faults', () => {
  it('jobs drained under a waiting coordinator: it says no worker is connected (stderr not a terminal), then stops with exit 1 naming each run', async () => {
    const q = uniqueQueue('drain');
    const c = start(sweep(redis.url, q, 'drain', '--seed', '1,2,3'));
    await waitFor(() => /no worker is connected/.test(c.err()), 20000);
    expect(c.err()).toContain(`no worker is connected to ${redis.url} (queue ${q}): 3 runs wait for one (vcpusim worker --queue ${redis.url} --queue-name ${q})`);
    const d = cli(['queue', 'drain', redis.url, '--queue-name', q, '--json']);
    expect(d.status).toBe(0);
    const t0 = Date.now();
    const { code } = await c.done;
    expect(code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(15000);
    for (const seed of [1, 2, 3]) expect(c.err()).toMatch(new RegExp(`run failed: seed=${seed}: removed from the queue before it finished \\(drained, flushed or evicted\\)`));
    expect(c.err()).toMatch(/3 configs, 0 run, 0 already stored, 3 failed/);
    expect(records(join(work, 'drain', 's'))).toHaveLength(0);
  }, 60000);

  it('the database flushed after some runs finished: those records kept, the rest named, exit 1', async () => {
    const q = uniqueQueue('flush');
    const dir = join(work, 'flush', 's');
    const w = start(['worker', '--queue', own.url, '--queue-name', q, '--workers', '1']);
    const c = start(sweep(own.url, q, 'flush', '--loops', '3000', '--seed', '1,2,3,4,5,6'));
    await waitFor(() => records(dir).length >= 1, 60000);
    w.kill('SIGKILL');
    await w.done;
    const r = new Redis(connection(own.url));
    await r.flushdb();
    r.disconnect();
    const { code } = await c.done;
    expect(code).toBe(1);
    const kept = records(dir).length;
    expect(kept).toBeGreaterThanOrEqual(1);
    expect(c.err().match(/removed from the queue before it finished/g)?.length).toBe(6 - kept);
    expect(c.err()).toMatch(new RegExp(`6 configs, ${kept} run, 0 already stored, ${6 - kept} failed`));
  }, 90000);

  it('the server restarted without persistence under a waiting coordinator: exit 1 naming the runs, within seconds', async () => {
    const q = uniqueQueue('restart');
    const c = start(sweep(own.url, q, 'restart', '--seed', '1,2'));
    await waitFor(() => /no worker is connected/.test(c.err()), 20000);
    await own.restart();
    const { code } = await c.done;
    expect(code).toBe(1);
    expect(c.err().match(/removed from the queue before it finished/g)).toHaveLength(2);
    expect(c.err().trim().split('\n').every((l) => !/^\s+at /.test(l))).toBe(true);
  }, 60000);

  it('two coordinators on one queue with the same configs: each job runs once, both stores hold every record, the same', async () => {
    const q = uniqueQueue('two');
    const [c1, c2] = [start(sweep(redis.url, q, 'two-a', '--seed', '1,2,3,4')), start(sweep(redis.url, q, 'two-b', '--seed', '1,2,3,4'))];
    await waitFor(() => /no worker is connected/.test(c1.err()) && /no worker is connected/.test(c2.err()), 20000);
    const w = start(['worker', '--queue', redis.url, '--queue-name', q, '--workers', '1']);
    const [r1, r2] = [await c1.done, await c2.done];
    expect([r1.code, r2.code]).toEqual([0, 0]);
    const [a, b] = [records(join(work, 'two-a', 's')), records(join(work, 'two-b', 's'))];
    expect(a).toHaveLength(4);
    const result = (dir: string, f: string) => JSON.stringify(JSON.parse(readFileSync(join(dir, f), 'utf8')).result);
    expect(b.map((f) => result(join(work, 'two-b', 's'), f))).toEqual(a.map((f) => result(join(work, 'two-a', 's'), f)));
    w.kill('SIGTERM');
    await w.done;
    expect(w.err().match(/^worker: took /gm)).toHaveLength(4);
  }, 60000);

  it('a database number the server does not have: one line, exit 2, before anything is queued', () => {
    for (const cmd of [sweep(`${redis.url}/99`, 'x', 'db'), ['worker', '--queue', `${redis.url}/99`], ['queue', 'status', `${redis.url}/99`]]) {
      const r = cli(cmd);
      expect(r.status, cmd[0]).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^error: (--queue|queue status): the Redis server at ${redis.url.replace(/[/.]/g, '\\$&')}/99 has no database 99 \\(ERR DB index is out of range\\)`));
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(existsSync(join(work, 'db'))).toBe(false);
  });

  it('hostile jobs another client queued: the worker refuses each with its reason and goes on serving; the coordinator stores only what it asked for', async () => {
    const q = uniqueQueue('hostile');
    const queue = new Queue(q, { connection: connection(redis.url) });
    const good = resolveConfig({ mode: 'kvm-trunk', workload: 'ctxswitch', tasks: 2, loops: 200, memoryMiB: 16 });
    const b64 = (v: unknown) => Buffer.from(pack(v)).toString('base64');
    const hostile: [string, unknown, string][] = [
      ['not-object', 'a string', 'its data is not an object'],
      ['no-version', { config: b64(good) }, 'its data has no modelVersion'],
      ['old-model', { config: b64(good), modelVersion: 'vcpusim-model-0' }, 'it is keyed for model "vcpusim-model-0"'],
      ['not-base64', { config: '!!not base64!!', modelVersion: MODEL_VERSION }, 'its config is not a base64 string'],
      ['huge', { config: 'A'.repeat(100000), modelVersion: MODEL_VERSION }, 'its config is not a base64 string of at most 16384 characters'],
      ['not-msgpack', { config: Buffer.from([0xc1, 0xc1]).toString('base64'), modelVersion: MODEL_VERSION }, 'its config is not msgpack'],
      ['number', { config: b64(42), modelVersion: MODEL_VERSION }, 'its config is not an object'],
      ['vcpus', { config: b64({ ...good, vcpus: 100000 }), modelVersion: MODEL_VERSION }, '--vcpus: '],
      ['unknown-field', { config: b64({ ...good, rmRf: true }), modelVersion: MODEL_VERSION }, '--param rmRf: is not a config field; expected one of mode, workload'],
      ['partial', { config: b64({ mode: 'native' }), modelVersion: MODEL_VERSION }, 'its config is not a resolved config'],
      ['wrong-id', { config: b64(good), modelVersion: MODEL_VERSION }, 'its id is not the key of its config'],
    ];
    for (const [id, data] of hostile) await queue.add(JOB_NAME, data, { jobId: id, attempts: 3 });
    const w = start(['worker', '--queue', redis.url, '--queue-name', q, '--workers', '1']);
    await waitFor(() => hostile.every(([id]) => w.err().includes(`failed ${id}: refused job ${id}: `)), 30000);
    for (const [id, , why] of hostile) expect(w.err(), id).toContain(`failed ${id}: refused job ${id}: ${why}`);
    // Refused for good: no attempt again.
    const counts = await queue.getJobCounts('failed', 'waiting', 'active');
    expect(counts).toMatchObject({ failed: hostile.length, waiting: 0, active: 0 });
    await queue.close();
    // The same worker serves a sweep; its store holds its two records and nothing else.
    const r = cli(sweep(redis.url, q, 'hostile', '--seed', '1,2'));
    expect(r.status).toBe(0);
    expect(readdirSync(join(work, 'hostile', 's')).filter((f) => f.endsWith('.json') && f !== 'experiment.json')).toHaveLength(2);
    w.kill('SIGTERM');
    await w.done;
  }, 90000);

  it("forged results: another config's result, an incomplete one, garbage: each refused with its reason and run again, then the run fails (exit 1), no record written", async () => {
    const q = uniqueQueue('forged');
    const other = simulate(resolveConfig({ mode: 'native', workload: 'ctxswitch', loops: 100 }));
    const forgeries: Record<number, (seed: number) => unknown> = {
      1: () => jobReturn(other, 0.1),
      2: () => ({ result: Buffer.from(pack({ schemaVersion: 1 })).toString('base64'), hostSeconds: 0.1 }),
      3: () => ({ result: 12, hostSeconds: 'soon' }),
    };
    const seen: number[] = [];
    const fake = new Worker<JobData, JobReturn>(
      q,
      (job) => {
        const seed = decodeConfig(Buffer.from(job.data.config, 'base64')).seed;
        seen.push(seed);
        return Promise.resolve(forgeries[seed]!(seed) as JobReturn);
      },
      { connection: connection(redis.url) },
    );
    const c = start(sweep(redis.url, q, 'forged', '--seed', '1,2,3', '--retries', '1'));
    const { code } = await c.done;
    await fake.close();
    expect(code).toBe(1);
    expect(c.err()).toMatch(/run failed \(attempt 1 of 2\), trying again: seed=1: the worker's result holds another config's result; refused/);
    expect(c.err()).toMatch(/run failed: seed=1: the worker's result holds another config's result \(2 attempts\)/);
    expect(c.err()).toMatch(/run failed: seed=2: the worker's result is not a complete record \(/);
    expect(c.err()).toMatch(/run failed: seed=3: the job returned no result/);
    expect(seen.sort()).toEqual([1, 1, 2, 2, 3, 3]);
    expect(records(join(work, 'forged', 's'))).toHaveLength(0);
  }, 60000);
});
