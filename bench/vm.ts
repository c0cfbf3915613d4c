/**
 * `node --expose-gc dist/bench/vm.js` (part of `npm run bench`): one large VM spread
 * over worker threads. hackbench 50 (2,000 tasks, 2,000,000 messages) in kvm-paravirt
 * on 16 vCPUs, run on 1 worker thread and on 2, alternately, BENCH_REPEAT times each
 * (default 3) after one warm-up run of each; host seconds of the run (the replicas'
 * set-up, done in parallel, is timed apart). Then the machine's own ceiling for two
 * threads: two copies of the 1-thread run at once, each on its own thread, against one
 * alone. Then memory: what a vCPU and what a task add to a replica of the VM.
 * BENCH_QUANTA=20,100 picks the quanta (simulated microseconds).
 */
import { availableParallelism, loadavg } from 'node:os';
import { SimPool } from '../coordinator/execution/pool.js';
import { placeVcpus, runVmSplit } from '../coordinator/execution/split.js';
import { resolveConfig, type SimConfig } from '../shared/config.js';
import { Vm } from '../worker/vm.js';
import { median } from './median.js';

const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const QUANTA = (process.env.BENCH_QUANTA ?? '20,100').split(',').map(Number);
const MiB = 2 ** 20;

const min = (xs: number[]) => Math.min(...xs);
const f = (x: number, d = 2) => x.toFixed(d);

async function split(cfg: SimConfig): Promise<void> {
  const one = new SimPool({ threads: 1 });
  const two = new SimPool({ threads: 2 });
  const t1: number[] = [];
  const t2: number[] = [];
  let quanta = 0;
  let same = true;
  try {
    let ref = '';
    for (let i = 0; i <= REPEAT; i++) {
      const a = await runVmSplit(one, cfg, placeVcpus(cfg.vcpus, 1));
      const b = await runVmSplit(two, cfg, placeVcpus(cfg.vcpus, 2));
      ref ||= JSON.stringify(a.result);
      same &&= JSON.stringify(a.result) === ref && JSON.stringify(b.result) === ref;
      quanta = a.quanta;
      if (i === 0) continue; // warm-up
      t1.push(a.hostSeconds);
      t2.push(b.hostSeconds);
    }
    // Two independent copies at once, one per thread: what two threads give on this machine.
    const alone = (await runVmSplit(two, cfg, [[...Array(cfg.vcpus).keys()]])).hostSeconds;
    const pair = await Promise.all([0, 1].map(() => runVmSplit(two, cfg, [[...Array(cfg.vcpus).keys()]])));
    const together = Math.max(...pair.map((p) => p.hostSeconds));
    console.log(
      `quantum ${String(cfg.quantum).padStart(4)} us  ${String(quanta).padStart(6)} quanta   1 thread: ${t1.map((x) => f(x)).join(' ')} s   2 threads: ${t2.map((x) => f(x)).join(' ')} s` +
        `   speed-up ${f(min(t1) / min(t2))}x (best), ${f(median(t1) / median(t2))}x (median)` +
        `   two independent copies at once: ${f(together)} s vs ${f(alone)} s alone, ceiling ${f((2 * alone) / together)}x` +
        `   statistics identical: ${same ? 'yes' : 'NO'}`,
    );
  } finally {
    await one.destroy();
    await two.destroy();
  }
}

/** Heap and typed-array bytes a built (not yet run) VM holds. */
function footprint(cfg: SimConfig): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  const before = process.memoryUsage();
  const vm = new Vm(cfg);
  gc();
  const after = process.memoryUsage();
  void vm.cfg;
  return after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
}

function memory(): void {
  const base = { mode: 'kvm-paravirt' as const, workload: 'hackbench' as const };
  const v1 = footprint(resolveConfig({ ...base, groups: 50, vcpus: 1 }));
  const v16 = footprint(resolveConfig({ ...base, groups: 50, vcpus: 16 }));
  const g5 = footprint(resolveConfig({ ...base, groups: 5, vcpus: 16 }));
  console.log(
    `memory of a replica (heap + typed arrays, built): 16 vCPUs x 2,000 tasks ${f(v16 / MiB, 1)} MiB; ` +
      `per vCPU ${f((v16 - v1) / 15 / MiB, 2)} MiB (1 -> 16 vCPUs at 2,000 tasks); per task ${f((v16 - g5) / 1800 / 1024, 1)} KiB (200 -> 2,000 tasks on 16 vCPUs)`,
  );
}

async function main(): Promise<void> {
  console.log(`one VM over worker threads: hackbench 50 (2,000 tasks) in kvm-paravirt on 16 vCPUs; ${availableParallelism()} cores, load average ${loadavg().map((x) => f(x)).join(' ')}`);
  for (const quantum of QUANTA) {
    // 896 MiB (all of lowmem): with 2.6.20's 110,592-byte socket buffers, 1,000 senders over 16 vCPUs queue more skbs than 256 MiB hold.
    await split(resolveConfig({ mode: 'kvm-paravirt', workload: 'hackbench', groups: 50, vcpus: 16, quantum, memoryMiB: 896 }));
  }
  memory();
}

await main();
