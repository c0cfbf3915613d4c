/**
 * `npm run bench:queue`: sweep throughput (configs/s, median of BENCH_REPEAT, default 3)
 * through the Redis queue with 1, 2 and 4 `vcpusim worker` processes (one thread each),
 * against the local pool (`sweep --workers 2`) on the same sweep. Every pass is the
 * whole command as a user runs it (its process start included) into a fresh store, with
 * --fresh (a finished job of the same key is removed and run again), so nothing is skipped or collected; the workers are started and
 * connected before the clock starts. Redis: BENCH_REDIS (a URL), or a redis-server from
 * PATH started on a free port. BENCH_RUNS (default 12) and BENCH_LOOPS (default 1500)
 * size the sweep. The load average is printed: other processes skew the numbers.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { median } from './median.js';

const BIN = fileURLToPath(new URL('../../bin/vcpusim.js', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 12);
const LOOPS = Number(process.env.BENCH_LOOPS ?? 1500);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const work = mkdtempSync(join(tmpdir(), 'vcpusim-bench-queue-'));
const seeds = Array.from({ length: RUNS }, (_, i) => i + 1).join(',');
const SWEEP = ['--mode', 'kvm-trunk', '--tasks', '2', '--loops', String(LOOPS), '--memory', '16', '--seed', seeds];

const freePort = (): Promise<number> =>
  new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });

async function redisUrl(): Promise<{ url: string; stop: () => void }> {
  if (process.env.BENCH_REDIS) return { url: process.env.BENCH_REDIS, stop: () => {} };
  const port = await freePort();
  spawnSync('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--daemonize', 'yes']);
  for (let i = 0; i < 100 && spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() !== 'PONG'; i++) await new Promise((r) => setTimeout(r, 50));
  return { url: `redis://127.0.0.1:${port}`, stop: () => void spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave']) };
}

function timed(args: string[]): Promise<number> {
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint();
    const c = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.on('close', (code) => (code === 0 ? res(Number(process.hrtime.bigint() - t0) / 1e9) : rej(new Error(`sweep exited ${code}: ${err}`))));
  });
}

function startWorker(url: string, queue: string): Promise<ChildProcess> {
  return new Promise((res) => {
    const c = spawn(process.execPath, [BIN, 'worker', '--queue', url, '--queue-name', queue, '--workers', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('taking jobs')) res(c);
    });
  });
}

let pass = 0;

async function measure(label: string, run: () => Promise<number>): Promise<void> {
  const s: number[] = [];
  for (let i = 0; i < REPEAT; i++) s.push(await run());
  const m = median(s);
  console.log(`${label.padEnd(26)} ${m.toFixed(2).padStart(7)} s  ${(RUNS / m).toFixed(2).padStart(6)} configs/s  (passes ${s.map((x) => x.toFixed(2)).join(', ')})`);
}

const redis = await redisUrl();
try {
  console.log(`queue bench: ${RUNS} runs of kvm-trunk ctxswitch, loops ${LOOPS}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  await measure('local pool, 2 threads', () => timed(['sweep', '--results', join(work, `l${pass++}`), '--workers', '2', ...SWEEP]));
  for (const n of [1, 2, 4]) {
    const queue = `bench-${process.pid}-${n}`;
    const workers = await Promise.all(Array.from({ length: n }, () => startWorker(redis.url, queue)));
    await measure(`queue, ${n} worker process${n > 1 ? 'es' : ''}`, () => timed(['sweep', '--results', join(work, `q${pass++}`), '--queue', redis.url, '--queue-name', queue, '--fresh', ...SWEEP]));
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.on('close', r)))));
  }
  console.log(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
} finally {
  redis.stop();
  rmSync(work, { recursive: true, force: true });
}
