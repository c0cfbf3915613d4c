/**
 * `npm run bench`: how fast the simulator runs, on one core, beside the floor loop
 * (floor.ts) measured in the same process.
 *  1. Warm events per second: hackbench 5 (200 tasks, 200,000 messages) in each mode and
 *     the 2-task lat_ctx switch in the modes of 2007; best of REPEAT after a warm-up run.
 *     An event: a system call, a context switch, a TLB miss or a VM exit of the measured
 *     part. The modes of 2007 on their Core 2 profile with the study's i386 guest; those
 *     of today on the Skylake-SP profile with an x86-64 guest (and native once more that
 *     way), with page-table isolation.
 *  2. Cold against warm: a fresh process per config loads the simulator and builds and
 *     runs the config four times; the first run (build + run) against the best of the
 *     third and fourth; three processes a config, medians.
 *  3. The seed's table: the 15 runs of bench/seed-table.yaml through `vcpusim reproduce
 *     --fresh` (a process of its own, worker threads, the store in a temporary directory),
 *     wall seconds, median of three.
 *  4. Time per event as the guest grows from 40 to 10,000 tasks (hackbench in kvm-trunk and
 *     native): SCALING_REPEAT runs of each size, the best and the median, and the minor
 *     page faults of a run (the host pages touched for the first time), beside what a first
 *     touch of a page costs on this machine.
 * BENCH_GROUPS picks another hackbench size for part 1; BENCH_PARTS=1,2 runs some parts.
 */
import { spawnSync } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODES, MODE_TRAITS, resolveConfig, type SimConfig } from '../shared/config.js';
import { simulate } from '../worker/vm.js';
import { floorRate } from './floor.js';
import { median } from './median.js';
import { eventsOf, timeRun } from './time-run.js';

const REPEAT = 3;
/** Runs of each size in part 4. */
const SCALING_REPEAT = 7;
const PARTS = new Set((process.env.BENCH_PARTS ?? '1,2,3,4').split(',').map(Number));
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
const M = (x: number): string => (x / 1e6).toFixed(2);
const pad = (cells: string[], first = 26, rest = 12): string => cells.map((c, i) => (i ? c.padStart(rest) : c.padEnd(first))).join('');


const TODAY: Partial<SimConfig> = { profile: 'skylake-sp-2017', arch: 'x86-64', kpti: true };
/** The published table's set-up (experiments/published-table.yaml). */
const SEED: Partial<SimConfig> = { hz: 1000, clocksource: 'pit', lapicTimer: true };
const seedMode = (mode: (typeof MODES)[number]): Partial<SimConfig> => ({ mode, ...SEED, ...(mode === 'kvm-trunk' || mode === 'kvm-paravirt' ? { mmuPages: 2048 } : {}) });

/** Milliseconds of garbage collection V8 reported since the last call (PerformanceObserver's gc entries, delivered between turns of the event loop). */
function gcClock(): () => Promise<number> {
  let ms = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) ms += e.duration;
  });
  obs.observe({ entryTypes: ['gc'] });
  return async () => {
    await new Promise((r) => setImmediate(r));
    const x = ms;
    ms = 0;
    return x;
  };
}

async function warm(floor: number): Promise<void> {
  const groups = Number(process.env.BENCH_GROUPS ?? 5);
  const gc = gcClock();
  console.log(`\n1. warm, one core, best of ${REPEAT} after a warm-up run; floor loop ${M(floor)} M events/s in this process; GC: its share of the timed runs`);
  console.log(pad(['run', 'host s', 'events', 'M events/s', 'x floor', 'GC %', 'guest s', 'guest/host']));
  const rows: [string, Partial<SimConfig>][] = [
    ...MODES.map((mode): [string, Partial<SimConfig>] => [`hackbench ${groups} ${mode}`, MODE_TRAITS[mode].modern ? { mode, ...TODAY } : { mode }]),
    [`hackbench ${groups} native x86-64`, { mode: 'native', ...TODAY }],
    ...MODES.filter((m) => !MODE_TRAITS[m].modern).map((mode): [string, Partial<SimConfig>] => [`2-task switch ${mode}`, { ...seedMode(mode), workload: 'ctxswitch', tasks: 2 }]),
  ];
  for (const [label, c] of rows) {
    const cfg = resolveConfig({ workload: 'hackbench', groups, ...c });
    simulate(cfg);
    await gc();
    let best = Infinity;
    let total = 0;
    let events = 0;
    let guestS = 0;
    for (let i = 0; i < REPEAT; i++) {
      const t0 = process.hrtime.bigint();
      const r = simulate(cfg);
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      best = Math.min(best, s);
      total += s;
      events = eventsOf(r);
      guestS = r.guestTimeNs / 1e9;
    }
    const gcShare = (await gc()) / 1e3 / total;
    const rate = events / best;
    console.log(pad([label, best.toFixed(3), events.toLocaleString('en-US'), M(rate), (rate / floor).toFixed(3), (100 * gcShare).toFixed(1), guestS.toFixed(3), (guestS / best).toFixed(1)]));
  }
}

function cold(): void {
  console.log('\n2. cold against warm: three fresh processes each; a run is build + run; medians of the three');
  console.log(pad(['run', 'import s', 'first s', 'second s', 'warm s', 'first/warm', 'build 1st s', 'build warm']));
  const rows: [string, Partial<SimConfig>][] = [
    ['2-task switch native', { ...seedMode('native'), workload: 'ctxswitch', tasks: 2 }],
    ['2-task switch kvm-paravirt', { ...seedMode('kvm-paravirt'), workload: 'ctxswitch', tasks: 2 }],
    ['hackbench 1 kvm-trunk', { ...seedMode('kvm-trunk'), workload: 'hackbench', groups: 1 }],
    ['hackbench 5 native', { mode: 'native', workload: 'hackbench', groups: 5 }],
    ['hackbench 5 kvm-paravirt', { mode: 'kvm-paravirt', workload: 'hackbench', groups: 5 }],
    ['hackbench 1 kvm-ept', { mode: 'kvm-ept', workload: 'hackbench', groups: 1, ...TODAY }],
  ];
  for (const [label, c] of rows) {
    const cols: number[][] = [[], [], [], [], [], [], []];
    for (let k = 0; k < 3; k++) {
      const p = spawnSync(process.execPath, [here('./cold.js'), JSON.stringify(c), '4'], { encoding: 'utf8' });
      if (p.status !== 0) throw new Error(`cold run of ${label} failed: ${p.stderr}`);
      const { importS, runs } = JSON.parse(p.stdout) as { importS: number; runs: { setupS: number; runS: number }[] };
      const total = runs.map((r) => r.setupS + r.runS);
      const w = Math.min(total[2]!, total[3]!);
      [importS, total[0]!, total[1]!, w, total[0]! / w, runs[0]!.setupS, Math.min(runs[2]!.setupS, runs[3]!.setupS)].forEach((x, i) => cols[i]!.push(x));
    }
    const m = cols.map(median);
    console.log(pad([label, m[0]!.toFixed(3), m[1]!.toFixed(3), m[2]!.toFixed(3), m[3]!.toFixed(3), m[4]!.toFixed(2), m[5]!.toFixed(3), m[6]!.toFixed(3)]));
  }
}

/**
 * Microseconds a first touch of a host page costs here: a fresh 64 MiB array (calloc's
 * mmap: no page mapped yet) filled, the fill's time less that of filling it again, per
 * 4 KiB page. A run that grows its heap or arrays pays this for every page it takes.
 */
function firstTouchMicros(): number {
  const pages = 16_384;
  const times: number[] = [];
  for (let k = 0; k < 3; k++) {
    const a = new Int32Array(pages * 1024);
    let t0 = process.hrtime.bigint();
    a.fill(k + 1);
    const first = Number(process.hrtime.bigint() - t0);
    t0 = process.hrtime.bigint();
    a.fill(k + 2);
    const again = Number(process.hrtime.bigint() - t0);
    times.push((first - again) / 1e3 / pages);
  }
  return median(times);
}

function seedTable(): void {
  const cli = here('../../bin/vcpusim.js');
  const yaml = here('../../bench/seed-table.yaml');
  const walls: number[] = [];
  const store = mkdtempSync(join(tmpdir(), 'vcpusim-bench-'));
  try {
    for (let i = 0; i < 3; i++) {
      const t0 = process.hrtime.bigint();
      const p = spawnSync(process.execPath, [cli, 'reproduce', yaml, '--fresh', '--results', store], { encoding: 'utf8' });
      if (p.status !== 0) throw new Error(`reproduce failed: ${p.stderr}`);
      walls.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    console.log(`\n3. the seed's table (bench/seed-table.yaml, 15 runs) through reproduce --fresh: ${walls.map((w) => w.toFixed(2)).join(' ')} s wall, median ${median(walls).toFixed(2)} s`);
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
  // The command line's own cost: `run` of the 2-task switch against node -e 0 plus the
  // simulation's own host time (the summary's "simulated in"), medians of five.
  const nodes: number[] = [];
  const runs: number[] = [];
  const sims: number[] = [];
  for (let i = 0; i < 5; i++) {
    let t0 = process.hrtime.bigint();
    spawnSync(process.execPath, ['-e', '0']);
    nodes.push(Number(process.hrtime.bigint() - t0) / 1e9);
    t0 = process.hrtime.bigint();
    const p = spawnSync(process.execPath, [cli, 'run', '--mode', 'native', '--workload', 'ctxswitch', '--tasks', '2'], { encoding: 'utf8' });
    runs.push(Number(process.hrtime.bigint() - t0) / 1e9);
    const m = /simulated in ([0-9.]+) s/.exec(p.stdout);
    if (p.status !== 0 || !m) throw new Error(`run failed: ${p.stderr}`);
    sims.push(Number(m[1]));
  }
  const [n, r, sim] = [median(nodes), median(runs), median(sims)];
  console.log(`   run of the 2-task switch (native): ${r.toFixed(2)} s wall; node -e 0 ${n.toFixed(2)} s + its simulation ${sim.toFixed(2)} s = ${(n + sim).toFixed(2)} s: ${(r / (n + sim)).toFixed(2)}x (medians of 5)`);
}

/**
 * Time per simulated event as the guest grows from 40 to 10,000 tasks, in kvm-trunk (where
 * more address spaces mean more shadow page faults, each more work) and native: 40,000
 * messages at 40, 400 and 4,000 tasks (hackbench 1 x 100 loops, 10 x 10, 100 x 1) and
 * 100,000 at 10,000 (hackbench 250, one loop). The events are the whole run's: the forks
 * and exits of thousands of processes are simulated events too (hackbench's figure and
 * its statistics start after the forks). Building the guest is timed apart.
 *
 * Every size runs the same number of times (SCALING_REPEAT): a best of fifteen short runs
 * against a best of three long ones would favour the short, on a machine whose times move
 * by half between minutes. The best and the median are both shown, and both ratios.
 */
function scaling(mode: 'kvm-trunk' | 'native', touchUs: number): void {
  console.log(`\n4. scaling: hackbench in ${mode}, growing task count, events of the whole run, ${SCALING_REPEAT} runs each: best and median`);
  console.log(`   faults/run: minor page faults of a run, median; a first touch of a 4 KiB page costs ${touchUs.toFixed(2)} us here now (a fresh 64 MiB array filled)`);
  console.log(pad(['tasks', 'build s', 'run s', 'events', 'ns/event', 'vs 40', 'median ns', 'vs 40', 'measured', 'ns/measured', 'heap MiB', 'faults/run'], 14));
  let base = 0;
  let baseMedian = 0;
  for (const [groups, loops, memoryMiB] of [
    [1, 100, 256],
    [10, 10, 256],
    [100, 1, 512],
    [250, 1, 1024],
  ] as const) {
    const cfg = resolveConfig({ mode, workload: 'hackbench', groups, loops, memoryMiB });
    const runs: number[] = [];
    const faults: number[] = [];
    let setup = Infinity;
    let events = 0;
    let measured = 0;
    let heap = 0;
    for (let i = 0; i < SCALING_REPEAT; i++) {
      const f0 = process.resourceUsage().minorPageFault;
      const { setupS, runS, result: r, allEvents } = timeRun(cfg);
      faults.push(process.resourceUsage().minorPageFault - f0);
      setup = Math.min(setup, setupS);
      runs.push(runS);
      heap = Math.max(heap, process.memoryUsage().heapUsed / 2 ** 20);
      events = allEvents;
      measured = eventsOf(r);
    }
    const best = Math.min(...runs);
    const ns = (best / events) * 1e9;
    const nsMedian = (median(runs) / events) * 1e9;
    base ||= ns;
    baseMedian ||= nsMedian;
    console.log(
      pad(
        [
          String(groups * 40),
          setup.toFixed(3),
          best.toFixed(3),
          events.toLocaleString('en-US'),
          ns.toFixed(1),
          (ns / base).toFixed(2),
          nsMedian.toFixed(1),
          (nsMedian / baseMedian).toFixed(2),
          measured.toLocaleString('en-US'),
          ((best / measured) * 1e9).toFixed(1),
          heap.toFixed(0),
          String(median(faults)),
        ],
        14,
      ),
    );
  }
}

const floor = floorRate();
if (PARTS.has(1)) await warm(floor);
if (PARTS.has(2)) cold();
if (PARTS.has(3)) seedTable();
if (PARTS.has(4)) {
  const touchUs = firstTouchMicros();
  scaling('kvm-trunk', touchUs);
  scaling('native', touchUs);
}
