/**
 * `node dist/bench/split.js`: one 16-vCPU VM (kvm-paravirt, hackbench BENCH_GROUPS,
 * default 10) over 1 and 2 worker threads, BENCH_REPEAT runs each (default 5, after a
 * warm-up of each), alternately; medians of the host seconds of the run (set-up timed
 * apart). Measured in the same run: the machine's own 2-thread ceiling, a fixed
 * integer loop on 1 worker thread against the same loop on each of 2 at once (what two
 * threads of pure CPU work give here and now); and the split again while a busy-loop
 * process occupies a core (contention: the split must not collapse).
 */
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { SimPool } from '../coordinator/execution/pool.js';
import { placeVcpus, runVmSplit } from '../coordinator/execution/split.js';
import { resolveConfig, type SimConfig } from '../shared/config.js';
import { median } from './median.js';

const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const GROUPS = Number(process.env.BENCH_GROUPS ?? 10);
/** Iterations of the integer loop of the ceiling (BENCH_LOOP). */
const LOOP_N = Number(process.env.BENCH_LOOP ?? 300_000_000);
const f = (x: number, d = 2) => x.toFixed(d);

/** The integer loop, in a worker thread: seconds it took. */
const LOOP = `
const { parentPort, workerData } = require('node:worker_threads');
const t0 = process.hrtime.bigint();
let x = 1;
for (let i = 0; i < workerData; i++) x = (x * 1103515245 + 12345) | 0;
parentPort.postMessage({ s: Number(process.hrtime.bigint() - t0) / 1e9, x });`;

function loop(n: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const w = new Worker(LOOP, { eval: true, workerData: n });
    w.once('message', (m: { s: number }) => resolve(m.s));
    w.once('error', reject);
  });
}

/** Seconds of the loop alone, and of two copies at once (the slower): ceiling = 2 x alone / together. */
async function ceiling(n: number): Promise<{ alone: number; together: number }> {
  const alone: number[] = [];
  const together: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    alone.push(await loop(n));
    together.push(Math.max(...(await Promise.all([loop(n), loop(n)]))));
  }
  return { alone: median(alone), together: median(together) };
}

async function splitTimes(cfg: SimConfig, one: SimPool, two: SimPool): Promise<{ t1: number[]; t2: number[]; same: boolean }> {
  const t1: number[] = [];
  const t2: number[] = [];
  let ref = '';
  let same = true;
  for (let i = 0; i <= REPEAT; i++) {
    const a = await runVmSplit(one, cfg, placeVcpus(cfg.vcpus, 1));
    const b = await runVmSplit(two, cfg, placeVcpus(cfg.vcpus, 2));
    ref ||= JSON.stringify(a.result);
    same &&= JSON.stringify(a.result) === ref && JSON.stringify(b.result) === ref;
    if (i === 0) continue; // warm-up
    t1.push(a.hostSeconds);
    t2.push(b.hostSeconds);
  }
  return { t1, t2, same };
}

function line(label: string, r: { t1: number[]; t2: number[]; same: boolean }): string {
  const m1 = median(r.t1);
  const m2 = median(r.t2);
  return `${label}: 1 thread ${r.t1.map((x) => f(x)).join(' ')} s (median ${f(m1)}), 2 threads ${r.t2.map((x) => f(x)).join(' ')} s (median ${f(m2)}), speed-up ${f(m1 / m2)}x; statistics identical: ${r.same ? 'yes' : 'NO'}`;
}

async function main(): Promise<void> {
  const cfg = resolveConfig({ mode: 'kvm-paravirt', workload: 'hackbench', groups: GROUPS, vcpus: 16 });
  console.log(`split bench: hackbench ${GROUPS} on 16 vCPUs, quantum ${cfg.quantum} us, ${REPEAT} runs each; ${availableParallelism()} cores, load ${loadavg().map((x) => f(x)).join(' ')}`);
  const one = new SimPool({ threads: 1 });
  const two = new SimPool({ threads: 2 });
  try {
    const c0 = await ceiling(LOOP_N);
    console.log(`2-thread ceiling (integer loop): ${f(c0.alone)} s alone, ${f(c0.together)} s two at once: ${f((2 * c0.alone) / c0.together)}x`);
    console.log(line('split', await splitTimes(cfg, one, two)));
    const c1 = await ceiling(LOOP_N);
    console.log(`2-thread ceiling again: ${f((2 * c1.alone) / c1.together)}x`);
    // Contention: a busy loop in another process takes a core for the whole of the next runs.
    const busy = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
    try {
      console.log(line('split beside a busy-loop process', await splitTimes(cfg, one, two)));
    } finally {
      busy.kill();
    }
  } finally {
    await one.destroy();
    await two.destroy();
  }
}

await main();
