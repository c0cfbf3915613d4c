/**
 * `npm run bench`: how fast the simulator runs, on one core.
 * For each mode: hackbench 5 (200 tasks, 200,000 messages): host seconds, simulated
 * events per second (an event: a system call, a context switch, a TLB miss or a VM exit),
 * and the ratio of simulated guest time to host time. The modes of 2007 on their Core 2
 * profile with the study's i386 guest; those of today on the Skylake-SP profile with an
 * x86-64 guest (and native once more that way), with page-table isolation.
 */
import { MODES, MODE_TRAITS, resolveConfig, type SimConfig } from '../shared/config.js';
import { simulate } from '../worker/vm.js';
import { timeRun } from './time-run.js';

const REPEAT = 3;

function main(): void {
  const groups = Number(process.env.BENCH_GROUPS ?? 5);
  console.log(`hackbench ${groups} (${groups * 40} tasks, ${groups * 40000} messages), best of ${REPEAT}, one core`);
  console.log(['mode', 'host s', 'events', 'events/s', 'guest s', 'guest/host'].map((h, i) => (i ? h.padStart(12) : h.padEnd(20))).join(''));
  const today: Partial<SimConfig> = { profile: 'skylake-sp-2017', arch: 'x86-64', kpti: true };
  const rows: [string, Partial<SimConfig>][] = [
    ...MODES.map((mode): [string, Partial<SimConfig>] => [mode, MODE_TRAITS[mode].modern ? { mode, ...today } : { mode }]),
    ['native x86-64', { mode: 'native', ...today }],
  ];
  for (const [label, c] of rows) {
    const cfg = resolveConfig({ ...c, workload: 'hackbench', groups });
    let best = Infinity;
    let events = 0;
    let guestS = 0;
    for (let i = 0; i < REPEAT; i++) {
      const t0 = process.hrtime.bigint();
      const r = simulate(cfg);
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      best = Math.min(best, s);
      events = r.guest.syscalls + r.guest.contextSwitches + r.tlb.misses + r.exits.total;
      guestS = r.guestTimeNs / 1e9;
    }
    console.log(
      [
        label.padEnd(20),
        best.toFixed(3).padStart(12),
        events.toLocaleString('en-US').padStart(12),
        Math.round(events / best).toLocaleString('en-US').padStart(12),
        guestS.toFixed(3).padStart(12),
        (guestS / best).toFixed(1).padStart(12),
      ].join(''),
    );
  }
}

/**
 * Time per simulated event as the guest grows from 40 to 4,000 tasks, at a constant
 * 40,000 messages (hackbench 1 x 100 loops, 10 x 10, 100 x 1), kvm-trunk. Building the
 * guest (page tables, tasks) is timed apart from running it.
 */
function scaling(): void {
  console.log('\nscaling: hackbench in kvm-trunk, 40,000 messages, growing task count');
  console.log(['tasks', 'set-up s', 'run s', 'events', 'ns/event', 'heap MiB'].map((h, i) => (i ? h.padStart(12) : h.padEnd(14))).join(''));
  for (const [groups, loops] of [
    [1, 100],
    [10, 10],
    [100, 1],
  ] as const) {
    const cfg = resolveConfig({ mode: 'kvm-trunk', workload: 'hackbench', groups, loops, memoryMiB: 512 });
    let best = Infinity;
    let setup = Infinity;
    let events = 0;
    let heap = 0;
    for (let i = 0; i < REPEAT; i++) {
      const { setupS, runS, result: r } = timeRun(cfg);
      setup = Math.min(setup, setupS);
      best = Math.min(best, runS);
      heap = Math.max(heap, process.memoryUsage().heapUsed / 2 ** 20);
      events = r.guest.syscalls + r.guest.contextSwitches + r.tlb.misses + r.exits.total;
    }
    console.log(
      [
        String(groups * 40).padEnd(14),
        setup.toFixed(3).padStart(12),
        best.toFixed(3).padStart(12),
        events.toLocaleString('en-US').padStart(12),
        ((best / events) * 1e9).toFixed(1).padStart(12),
        heap.toFixed(0).padStart(12),
      ].join(''),
    );
  }
}

main();
scaling();
