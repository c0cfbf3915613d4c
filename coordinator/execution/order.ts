/**
 * The order a list of runs goes to the threads in: the longest first, so that a sweep
 * does not end with one thread on its longest run while the others wait (longest
 * processing time first). How long a run takes is estimated from its config alone: the
 * workload's units of work (a hackbench message, a lat_ctx pass of one task, ...) times
 * what a unit costs in the mode, both from `npm run bench` (docs/speed.md). Only the
 * order depends on it; which results come out does not.
 */
import type { SimConfig } from '../../shared/config.js';
import type { Mode, Workload } from '../../shared/modes.js';

/** Host microseconds of a unit of each workload's `loops` in native, about (bench: hackbench 5 native, 2-task switch). */
const UNIT_US: Readonly<Record<Workload, (c: SimConfig) => number>> = {
  // 20 x 20 messages a loop and group; ~1.2 us a message.
  hackbench: (c) => 480 * c.groups,
  // a pass of the token around the ring (plus the overhead process and the warm-ups): ~1.5 us a task.
  ctxswitch: (c) => 1.5 * c.tasks + c.size / 4,
  pipe: () => 3,
  idle: () => 20,
  pgdreuse: () => 500,
  iomix: (c) => 3 * c.tasks,
  trace: () => 100_000,
  syscall: () => 0.3,
  pagefault: () => 2,
  fork: () => 60,
};

/** Host time per unit against native (bench: events per second of hackbench 5 in each mode). */
const MODE_FACTOR: Readonly<Record<Mode, number>> = {
  native: 1,
  qemu: 1.5,
  'kvm-upstream': 2,
  'kvm-trunk': 1.3,
  'kvm-paravirt': 1.4,
  'kvm-ept': 5,
  'kvm-shadow': 5.5,
  'kvm-shadow-pv': 6,
};

/** An estimate of a run's host seconds on one thread (for ordering, not for display). */
export function expectedSeconds(c: SimConfig): number {
  const x64 = c.arch === 'x86-64' && c.mode === 'native' ? 5 : 1;
  return (UNIT_US[c.workload](c) * c.loops * MODE_FACTOR[c.mode] * x64) / 1e6;
}

/** The indices of `configs`, the longest expected run first (ties in list order). */
export function longestFirst(configs: readonly SimConfig[]): number[] {
  const t = configs.map(expectedSeconds);
  return configs.map((_, i) => i).sort((a, b) => t[b]! - t[a]! || a - b);
}
