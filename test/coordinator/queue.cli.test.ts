/**
 * Queue mode end to end: the built CLI as coordinator and as `vcpusim worker` processes
 * against a real redis-server (support/redis.ts). A worker killed -9 mid-job, a
 * coordinator killed and started again, a run failing on every attempt, an unreachable
 * server and a malformed URL.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, startCli, waitFor, type Child } from '../support/child.js';
import { FAULT_HOOKS } from '../support/faults.js';
import { checkRecords, records, seeds } from '../support/records.js';
import { testRedis, uniqueQueue, type TestRedis } from '../support/redis.js';

const work = mkdtempSync(join(tmpdir(), 'vcpusim-queue-'));
let redis: TestRedis;
const children: ChildProcess[] = [];
beforeAll(async () => {
  redis = await testRedis();
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  redis?.stop();
  rmSync(work, { recursive: true, force: true });
});

const start = (args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): Child => startCli(work, args, { env, nodeArgs, track: children });
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: work, timeout: 60000 });
const worker = (queue: string, env: Record<string, string> = {}, nodeArgs: string[] = []) =>
  start(['worker', '--queue', redis.url, '--queue-name', queue, '--workers', '1', '--lock-ms', '1000'], env, nodeArgs);
const took = (w: Child) => [...w.err().matchAll(/^worker: took ([0-9a-f]{20})/gm)].map((m) => m[1]!);
const ran = (w: Child) => [...w.err().matchAll(/^worker: ran ([0-9a-f]{20})/gm)].map((m) => m[1]!);
async function stopWorker(w: Child): Promise<void> {
  if (w.exitCode !== null || w.signalCode !== null) return;
  w.kill('SIGTERM');
  const { code } = await w.done;
  expect(code).toBe(143);
  expect(w.err()).toMatch(/^worker: closed$/m);
}

const SWEEP = ['--mode', 'kvm-trunk', '--tasks', '2', '--loops', '3000', '--memory', '16', '--seed', seeds(6)];
const results = (dir: string) => new Map([...checkRecords(dir)].map(([f, r]) => [f, JSON.stringify(r.result)]));

describe('queue mode', () => {
  it('a worker killed -9 mid-job: its job is run by the other, every record is stored and equals the local run', async () => {
    const q = uniqueQueue('kill');
    const a = worker(q);
    const coord = start(['sweep', '--name', 's', '--results', join(work, 'kill-q'), '--queue', redis.url, '--queue-name', q, ...SWEEP]);
    // `b` starts once `a` has a job, so that each takes every other one however slowly either starts.
    await waitFor(() => took(a).length >= 1, 60000);
    const b = worker(q);
    // Kill `a` while it holds a job, after it has finished one (so the kill is mid-sweep).
    await waitFor(() => ran(a).length >= 1 && took(a).length > ran(a).length, 60000);
    const lost = took(a).at(-1)!;
    a.kill('SIGKILL');
    const { code } = await coord.done;
    expect(coord.err()).toMatch(/6 configs, 6 run, 0 already stored, 0 failed/);
    expect(code).toBe(0);
    expect(took(b)).toContain(lost);
    // No job but the lost one was taken twice.
    const all = [...took(a), ...took(b)];
    expect(all.length).toBe(7);
    expect(new Set(all).size).toBe(6);
    await stopWorker(b);
    const local = cli(['sweep', '--name', 's', '--results', join(work, 'kill-l'), '--workers', '2', ...SWEEP]);
    expect(local.status).toBe(0);
    const [viaQueue, viaPool] = [results(join(work, 'kill-q', 's')), results(join(work, 'kill-l', 's'))];
    expect(viaQueue.size).toBe(6);
    expect(viaQueue).toEqual(viaPool);
  }, 120000);

  it('a run longer than the job lock keeps its lock (renewed while the run is in a pool thread): taken once, not stalled', async () => {
    const q = uniqueQueue('lock');
    const w = start(['worker', '--queue', redis.url, '--queue-name', q, '--workers', '1', '--lock-ms', '500']);
    const r = cli(['sweep', '--name', 's', '--results', join(work, 'lock'), '--queue', redis.url, '--queue-name', q, '--mode', 'kvm-trunk', '--tasks', '2', '--loops', '300000', '--memory', '16']);
    expect(r.status).toBe(0);
    // spawnSync held this thread: the worker's lines arrive now.
    await waitFor(() => ran(w).length === 1, 10000);
    const seconds = Number(/^worker: ran \S+ in ([\d.]+) s/m.exec(w.err())?.[1]);
    expect(seconds).toBeGreaterThan(0.5);
    expect(took(w).length).toBe(1);
    expect(w.err()).not.toMatch(/stalled/);
    await stopWorker(w);
  }, 60000);

  it('a coordinator killed and started again collects what finished meanwhile and runs nothing twice', async () => {
    const q = uniqueQueue('restart');
    const dir = join(work, 'restart', 's');
    const args = ['sweep', '--name', 's', '--results', join(work, 'restart'), '--queue', redis.url, '--queue-name', q, ...SWEEP];
    const w = worker(q);
    const first = start(args);
    await waitFor(() => records(dir).length >= 1, 60000);
    first.kill('SIGKILL');
    await first.done;
    const stored = records(dir).length;
    // The worker goes on with the queued jobs while no coordinator is there.
    await waitFor(() => ran(w).length === 6, 60000);
    const t0 = Date.now();
    const again = cli(args);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain(`6 configs, ${6 - stored} run, ${stored} already stored, 0 failed`);
    expect(Date.now() - t0).toBeLessThan(15000);
    expect(took(w).length).toBe(6);
    expect(records(dir).length).toBe(6);
    const status = JSON.parse(cli(['queue', 'status', redis.url, '--queue-name', q, '--json']).stdout);
    expect(status).toMatchObject({ queue: q, waiting: 0, active: 0, completed: 6, failed: 0, workers: 1 });
    await stopWorker(w);
  }, 120000);

  it('a run that fails on every attempt is reported with its reason (exit 1); the others are stored', async () => {
    const q = uniqueQueue('fail');
    const w = worker(q, { VCPUSIM_FAULT: 'throw-on-seed:2' }, ['--import', FAULT_HOOKS.href]);
    const r = start(['sweep', '--name', 's', '--results', join(work, 'fail'), '--queue', redis.url, '--queue-name', q, '--retries', '1', '--mode', 'kvm-trunk', '--tasks', '2', '--loops', '200', '--memory', '16', '--seed', '1,2,3']);
    const { code } = await r.done;
    expect(code).toBe(1);
    expect(r.err()).toMatch(/run failed: seed=2: .*\(2 attempts\)/);
    expect(r.err()).toMatch(/3 configs, 2 run, 0 already stored, 1 failed/);
    expect(records(join(work, 'fail', 's')).length).toBe(2);
    expect(took(w).length).toBe(4);
    await stopWorker(w);
  }, 60000);

  it('--queue: unreachable server and malformed URL are one line, exit 2, at once', () => {
    const t0 = Date.now();
    const r = cli(['sweep', '--results', join(work, 'x'), '--queue', 'redis://127.0.0.1:1', '--tasks', '2']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('error: --queue: cannot reach Redis at redis://127.0.0.1:1 (ECONNREFUSED); expected the URL of a running redis-server\n');
    expect(Date.now() - t0).toBeLessThan(8000);
    for (const bad of ['localhost:6379', 'http://h:1', 'redis://h:1/x', 'redis://h:99999']) {
      const m = cli(['sweep', '--results', join(work, 'x'), '--queue', bad, '--tasks', '2']);
      expect(m.status).toBe(2);
      expect(m.stderr).toMatch(/^error: --queue: .*expected a Redis URL redis:\/\/host\[:port\]\[\/db\]/);
      expect(m.stderr.split('\n').length).toBe(2);
    }
    const w = cli(['worker', '--queue', 'redis://127.0.0.1:1']);
    expect(w.status).toBe(2);
    expect(w.stderr).toMatch(/^error: --queue: cannot reach Redis/);
    const both = cli(['sweep', '--results', join(work, 'x'), '--queue', redis.url, '--workers', '2', '--tasks', '2']);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/^error: --workers: 2 has no effect with --queue/);
  });
});
