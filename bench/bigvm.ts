/**
 * `node --expose-gc dist/bench/bigvm.js`: a big VM. Peak memory of `run` of a 256-vCPU VM
 * on 1, 2 and 4 threads (each in its own process), memory per task at 256 vCPUs, and host time per simulated event
 * (an event here is one VM exit or one guest context switch, both counted by
 * the statistics) at 40, 1,000 and 10,000 tasks, in this thread. BIGVM_RUN=0 skips the
 * timed runs (the 10,000-task one takes minutes). The timed runs have 3 GiB of guest memory.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolveConfig } from '../shared/config.js';
import { timeRun } from './time-run.js';

const MiB = 2 ** 20;
const f = (x: number, d = 2) => x.toFixed(d);

const BIN = fileURLToPath(new URL('../../bin/vcpusim.js', import.meta.url));

/**
 * Peak resident memory (MiB) of `vcpusim run` of hackbench `groups` on 256 vCPUs split
 * over `workers` threads, in its own process: the coordinator, its worker threads and
 * their replicas, as the operating system counts them.
 */
function peakRss(groups: number, workers: number, memoryMiB: number, vcpus = 256): { mib: number; result: string } {
  const args = ['run', '--mode', 'kvm-paravirt', '--workload', 'hackbench', '--groups', String(groups), '--loops', '1', '--vcpus', String(vcpus), '--workers', String(workers), '--memory', String(memoryMiB), '--json'];
  const script = `const { main } = await import(${JSON.stringify(pathToFileURL(BIN.replace(/bin[\\/]vcpusim\.js$/, 'dist/coordinator/cli.js')).href)});
    const code = await main(['node', 'vcpusim', ...${JSON.stringify(args)}]);
    process.stderr.write('MAXRSS ' + process.resourceUsage().maxRSS + '\\n'); process.exitCode = code;`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const m = /MAXRSS (\d+)/.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`run failed: ${r.stderr}`);
  const doc = JSON.parse(r.stdout) as { hostCpuUtilisation?: number };
  delete doc.hostCpuUtilisation;
  return { mib: Number(m[1]) / 1024, result: JSON.stringify(doc) };
}

const big = (groups: number, vcpus = 256, loops?: number, memoryMiB = 896) =>
  resolveConfig({ mode: 'kvm-paravirt', workload: 'hackbench', groups, vcpus, memoryMiB, ...(loops ? { loops } : {}) });

function memory(groups: number, memoryMiB: number): void {
  const one = peakRss(groups, 1, memoryMiB);
  const two = peakRss(groups, 2, memoryMiB);
  const four = peakRss(groups, 4, memoryMiB);
  const same = one.result === two.result && one.result === four.result;
  console.log(
    `peak memory of run, 256 vCPUs x ${groups * 40} tasks (--memory ${memoryMiB}): 1 thread ${f(one.mib, 0)} MiB, 2 threads ${f(two.mib, 0)} MiB (${f(two.mib / one.mib)}x), ` +
      `4 threads ${f(four.mib, 0)} MiB (${f(four.mib / one.mib)}x); statistics ${same ? 'identical' : 'DIFFER'}`,
  );
}

/** One timed run; returns host microseconds per event. */
function timedOnce(groups: number, loops: number): { perEvent: number; line: string } {
  // 3 GiB for every size (2 GiB of it highmem): 10,000 tasks' user pages do not fit in 896 MiB.
  const cfg = big(groups, 256, loops, 3072);
  const { setupS, runS: run, result: r } = timeRun(cfg);
  const events = r.exits.total + r.guest.contextSwitches;
  const perEvent = (run / events) * 1e6;
  return {
    perEvent,
    line:
      `hackbench ${groups} (${cfg.tasks} tasks, loops ${loops}) on 256 vCPUs: set-up ${f(setupS)} s, run ${f(run)} s, ` +
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
memory(25, 896);
memory(250, 3072);
// Per vCPU and per task: the difference of two runs' peaks on 1 thread.
{
  const v = (groups: number, vcpus = 256) => peakRss(groups, 1, 896, vcpus).mib;
  const g25 = v(25);
  const g5 = v(5);
  const g25v128 = v(25, 128);
  console.log(
    `  per task ${f(((g25 - g5) * 1024) / 800, 1)} KiB (200 -> 1,000 tasks on 256 vCPUs), per vCPU ${f(((g25 - g25v128) * 1024) / 128, 1)} KiB (128 -> 256 vCPUs, 1,000 tasks); peaks on 1 thread`,
  );
}
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
