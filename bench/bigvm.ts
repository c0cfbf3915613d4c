/**
 * `node --expose-gc dist/bench/bigvm.js`: a big VM. Memory held at the end of a run of a
 * 256-vCPU VM as one replica against 2 replicas of half its vCPUs each (what 2 threads
 * hold together), memory per vCPU and per task at 256 vCPUs, and host time per simulated event
 * (an event here is one VM exit or one guest context switch, both counted by
 * the statistics) at 40, 1,000 and 10,000 tasks, in this thread. BIGVM_RUN=0 skips the
 * timed runs (the 10,000-task one takes minutes). The timed runs have 3 GiB of guest memory.
 */
import { availableParallelism, loadavg } from 'node:os';
import { resolveConfig, type SimConfig } from '../shared/config.js';
import { runSplit } from '../worker/smp/partition.js';
import { Vm } from '../worker/vm.js';

const MiB = 2 ** 20;
const f = (x: number, d = 2) => x.toFixed(d);

/** Heap and typed-array bytes held at the end of a run of `cfg` split into `replicas` replicas (run in turn in this thread, kept alive). */
function footprint(cfg: SimConfig, replicas = 1): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  const before = process.memoryUsage();
  const ids = [...Array(cfg.vcpus).keys()];
  const held: Vm[] = [];
  runSplit(
    (local) => {
      const vm = new Vm(cfg, {}, local);
      held.push(vm);
      return vm;
    },
    Array.from({ length: replicas }, (_, r) => ids.filter((v) => v % replicas === r)),
  );
  gc();
  const after = process.memoryUsage();
  void held.length;
  return after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
}

const big = (groups: number, vcpus = 256, loops?: number, memoryMiB = 896) =>
  resolveConfig({ mode: 'kvm-paravirt', workload: 'hackbench', groups, vcpus, memoryMiB, ...(loops ? { loops } : {}) });

function memory(): void {
  const cfg = big(25, 256, 1);
  footprint(big(5, 256, 1)); // the first run's compiled code and caches are not the VM's
  const one = footprint(cfg);
  const two = footprint(cfg, 2);
  const v128 = footprint(big(25, 128, 1));
  const g5 = footprint(big(5, 256, 1));
  console.log(
    `memory at the end of a run, 256 vCPUs x 1,000 tasks: one replica ${f(one / MiB, 1)} MiB, ` +
      `2 replicas ${f(two / MiB, 1)} MiB together (${f(two / one)}x one)`,
  );
  console.log(`  per vCPU ${f((one - v128) / 128 / 1024, 1)} KiB (128 -> 256 vCPUs); per task ${f((one - g5) / 800 / 1024, 1)} KiB (200 -> 1,000 tasks)`);
}

/** One timed run; returns host microseconds per event. */
function timedOnce(groups: number, loops: number): { perEvent: number; line: string } {
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
  const perEvent = (run / events) * 1e6;
  return {
    perEvent,
    line:
      `hackbench ${groups} (${cfg.tasks} tasks, loops ${loops}) on 256 vCPUs: set-up ${f(Number(t1 - t0) / 1e9)} s, run ${f(run)} s, ` +
      `${events} events (exits + context switches), ${f(perEvent, 2)} us per event, rss ${f(process.memoryUsage().rss / MiB, 0)} MiB`,
  };
}

/** The median of `runs` timed runs (this machine is noisy). */
function timed(groups: number, loops: number, runs: number): number {
  const all = Array.from({ length: runs }, () => timedOnce(groups, loops));
  all.sort((a, b) => a.perEvent - b.perEvent);
  const mid = all[Math.floor(runs / 2)]!;
  console.log(`${mid.line} (median of ${runs}: ${all.map((x) => f(x.perEvent, 1)).join(', ')})`);
  return mid.perEvent;
}

console.log(`big VM: ${availableParallelism()} cores, load average ${loadavg().map((x) => f(x)).join(' ')}`);
memory();
if (process.env.BIGVM_RUN !== '0') {
  const runs = Number(process.env.BIGVM_RUNS ?? 3);
  // A first run compiles the hot paths; the timed runs then compare like with like.
  timedOnce(1, 20);
  // The same workload at every size (loops 2: each task's fork, page tables and exit
  // weigh the same share of its events), then 40 tasks at loops 100 (more messages, fewer
  // forks per event).
  const t40 = timed(1, 2, runs);
  const t1k = timed(25, 2, runs);
  const t10k = timed(250, 2, runs);
  timed(1, 100, runs);
  console.log(`time per event at loops 2: 10,000 tasks against 40 ${f(t10k / t40)}x, against 1,000 ${f(t10k / t1k)}x`);
}
