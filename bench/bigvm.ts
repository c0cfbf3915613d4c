/**
 * `node --expose-gc dist/bench/bigvm.js`: a big VM. Memory of a 256-vCPU VM built as
 * one replica holding every vCPU against one holding half (what each of 2 threads
 * holds), memory per vCPU and per task at 256 vCPUs, and host time per simulated event
 * (an event here is one VM exit or one guest context switch, both counted by
 * the statistics) at 40, 1,000 and 10,000 tasks, in this thread. BIGVM_RUN=0 skips the
 * timed runs (the 10,000-task one takes minutes). The timed runs have 3 GiB of guest memory.
 */
import { availableParallelism, loadavg } from 'node:os';
import { resolveConfig, type SimConfig } from '../shared/config.js';
import { Vm } from '../worker/vm.js';

const MiB = 2 ** 20;
const f = (x: number, d = 2) => x.toFixed(d);

/** Heap and typed-array bytes of a built (not yet run) replica running `local` vCPUs. */
function footprint(cfg: SimConfig, local?: number[]): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  const before = process.memoryUsage();
  const vm = new Vm(cfg, {}, local);
  gc();
  const after = process.memoryUsage();
  void vm.cfg;
  return after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
}

const big = (groups: number, vcpus = 256, loops?: number, memoryMiB = 896) =>
  resolveConfig({ mode: 'kvm-paravirt', workload: 'hackbench', groups, vcpus, memoryMiB, ...(loops ? { loops } : {}) });

function memory(): void {
  const cfg = big(25);
  const all = footprint(cfg);
  const half = footprint(cfg, [...Array(128).keys()]);
  const v128 = footprint(big(25, 128));
  const g5 = footprint(big(5));
  console.log(`memory of a built replica, 256 vCPUs x 1,000 tasks: all vCPUs ${f(all / MiB, 1)} MiB, half of them (one of 2 threads) ${f(half / MiB, 1)} MiB`);
  console.log(`  per vCPU ${f((all - v128) / 128 / 1024, 1)} KiB (128 -> 256 vCPUs); per task ${f((all - g5) / 800 / 1024, 1)} KiB (200 -> 1,000 tasks)`);
}

function timed(groups: number, loops: number): void {
  // 3 GiB for every size (2 GiB of it highmem): 10,000 tasks' user pages do not fit in 896 MiB.
  const cfg = big(groups, 256, loops, 3072);
  const t0 = process.hrtime.bigint();
  const vm = new Vm(cfg);
  const t1 = process.hrtime.bigint();
  vm.run();
  const t2 = process.hrtime.bigint();
  const r = vm.result();
  const events = r.exits.total + r.guest.contextSwitches;
  const run = Number(t2 - t1) / 1e9;
  console.log(
    `hackbench ${groups} (${cfg.tasks} tasks, loops ${loops}) on 256 vCPUs: set-up ${f(Number(t1 - t0) / 1e9)} s, run ${f(run)} s, ` +
      `${events} events (exits + context switches), ${f((run / events) * 1e6, 2)} us per event, rss ${f(process.memoryUsage().rss / MiB, 0)} MiB`,
  );
}

console.log(`big VM: ${availableParallelism()} cores, load average ${loadavg().map((x) => f(x)).join(' ')}`);
memory();
if (process.env.BIGVM_RUN !== '0') {
  timed(1, 100);
  timed(25, 4);
  timed(250, 1);
}
