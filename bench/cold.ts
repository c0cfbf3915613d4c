/**
 * `node dist/bench/cold.js '<config json>' [runs]` (run by bench.ts in a fresh process):
 * the simulator's modules loaded, then the same config built and run `runs` times in this
 * thread. Prints one JSON line: the import's seconds, each run's build and run seconds,
 * and the run's simulated events.
 */
import { performance } from 'node:perf_hooks';

const t0 = performance.now();
const { resolveConfig } = await import('../shared/config.js');
const { timeRun } = await import('./time-run.js');
const importS = (performance.now() - t0) / 1e3;

const cfg = resolveConfig(JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>);
const runs = Number(process.argv[3] ?? 4);
const out: { setupS: number; runS: number }[] = [];
let events = 0;
for (let i = 0; i < runs; i++) {
  const { setupS, runS, result: r } = timeRun(cfg);
  out.push({ setupS, runS });
  events = r.guest.syscalls + r.guest.contextSwitches + r.tlb.misses + r.exits.total;
}
console.log(JSON.stringify({ importS, runs: out, events }));
