/**
 * `node dist/bench/sweep.js`: how well a sweep of independent runs spreads over worker
 * threads. Sixteen runs (hackbench 1 in kvm-paravirt, cacheSize 1..16) through runAll
 * with 1 worker (this thread) and with 2 worker threads (and every core, if more than 2),
 * in two sizes:
 *   - loops 100 (the hackbench default, ~25 ms a run): dominated by what a pool costs
 *     to start (each thread loads the simulator and compiles it cold, ~0.15 s and more);
 *   - loops 1000 (~0.4 s a run): what the pool is for.
 * Prints host seconds (best of BENCH_REPEAT, default 3; every pass starts a fresh pool,
 * as a runner of its own does, except the "2 warm" row, which reuses one runner whose threads have
 * already run the sweep once), the speed-up over 1 worker, and the resident memory a worker thread
 * adds (peak RSS during the first pass minus RSS before it, per thread). Other
 * processes on the machine skew the numbers: the load average is printed, and
 * "CPU/host s" is the CPU time this process got per host second (near the worker count
 * when its threads had the cores to themselves; V8's own GC and compiler threads add some).
 * BENCH_LOOPS=a,b picks other sizes; BENCH_RUNS the number of runs.
 */
import { availableParallelism, loadavg } from 'node:os';
import { LocalRunner } from '../coordinator/execution/local.js';
import { resolveConfig, type SimConfig } from '../shared/config.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 16);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const LOOPS = (process.env.BENCH_LOOPS ?? '100,1000').split(',').map(Number);

const MiB = 1024 * 1024;

interface Pass {
  seconds: number;
  /** Peak RSS during the pass minus RSS before it. */
  rssDelta: number;
  /** CPU seconds of this process (all threads) per host second. */
  cpu: number;
}

/** A pass on `runner`, or on a runner of its own of `workers` threads (in this thread for 1) made and closed inside the timing. */
async function pass(configs: readonly SimConfig[], workers: number, runner?: LocalRunner): Promise<Pass> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const sample = (): void => {
    peak = Math.max(peak, process.memoryUsage.rss());
  };
  const sampler = setInterval(sample, 10);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  // Sampled once per outcome too: the in-process path never yields to the timer.
  const own = runner ? undefined : new LocalRunner(workers > 1 ? { threads: workers } : { inThread: true });
  const outs = await (runner ?? own!).runAll(configs, { onOutcome: sample });
  await own?.close();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  const failed = outs.filter((o) => o.error);
  if (failed.length) throw new Error(`${failed.length} runs failed: ${failed[0]!.error}`);
  return { seconds, rssDelta: peak - before, cpu: (cpu.user + cpu.system) / 1e6 / seconds };
}

async function sweep(loops: number, counts: number[]): Promise<void> {
  const configs = Array.from({ length: RUNS }, (_, i) =>
    resolveConfig({ mode: 'kvm-paravirt', workload: 'hackbench', groups: 1, loops, cacheSize: i + 1 }),
  );
  console.log(`\n${RUNS} runs of hackbench 1, loops ${loops} (kvm-paravirt, cacheSize 1..${RUNS}), best of ${REPEAT}`);
  console.log(['workers', 'host s', 'speed-up', 'CPU/host s', 'RSS/thread MiB'].map((h, i) => (i ? h.padStart(16) : h.padEnd(8))).join(''));
  let base = 0;
  const rows: { workers: number; runner?: LocalRunner }[] = counts.map((workers) => ({ workers }));
  // The same sweep again on threads kept across passes (one untimed pass to warm them).
  const reused = new LocalRunner({ threads: 2 });
  rows.push({ workers: 2, runner: reused });
  await reused.runAll(configs);
  for (const { workers, runner } of rows) {
    let best = Infinity;
    let rssDelta = 0;
    let cpu = 0;
    for (let i = 0; i < REPEAT; i++) {
      const p = await pass(configs, workers, runner);
      if (p.seconds < best) [best, cpu] = [p.seconds, p.cpu];
      if (i === 0) rssDelta = p.rssDelta;
    }
    if (workers === 1) base = best;
    console.log(
      [
        (runner ? `${workers} warm` : String(workers)).padEnd(8),
        best.toFixed(3).padStart(16),
        `${(base / best).toFixed(2)}x`.padStart(16),
        cpu.toFixed(2).padStart(16),
        (workers === 1 ? '(this thread)' : runner ? '(started)' : (rssDelta / workers / MiB).toFixed(1)).padStart(16),
      ].join(''),
    );
  }
  await reused.close();
}

async function main(): Promise<void> {
  const cores = availableParallelism();
  const counts = [1, 2, ...(cores > 2 ? [cores] : [])];
  const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`${cores} cores, load average ${load()}`);
  for (const loops of LOOPS) await sweep(loops, counts);
  console.log(`\nload average at the end ${load()}; process RSS ${(process.memoryUsage.rss() / MiB).toFixed(1)} MiB`);
}

await main();
