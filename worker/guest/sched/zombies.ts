/**
 * A parent's exited children waiting to be reaped (Task.zombies, ZOMBIE_WORDS numbers
 * each: pid, first_time_slice, time_slice, sleep_avg, CPU). do_wait reaps the first zombie
 * of the children list, which is in fork order: the lowest pid. The records are kept as a
 * binary heap on the pid, so that finding it takes log n steps, not a scan of every zombie
 * (hackbench's main process has thousands of children, most of them exited before it
 * reaps the first).
 */
import { ZOMBIE_WORDS } from '../task.js';

const W = ZOMBIE_WORDS;

/** Add a zombie. */
export function pushZombie(z: number[], pid: number, first: number, timeSlice: number, sleepAvg: number, cpu: number): void {
  let i = z.length / W;
  z.push(pid, first, timeSlice, sleepAvg, cpu);
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (z[p * W]! <= pid) break;
    swap(z, i, p);
    i = p;
  }
}

/** Take the zombie of the lowest pid into `out` (its ZOMBIE_WORDS numbers); the heap must not be empty. */
export function popZombie(z: number[], out: number[]): void {
  for (let k = 0; k < W; k++) out[k] = z[k]!;
  const n = z.length / W - 1;
  if (n > 0) for (let k = 0; k < W; k++) z[k] = z[n * W + k]!;
  z.length = n * W;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && z[r * W]! < z[l * W]! ? r : l;
    if (z[i * W]! <= z[c * W]!) break;
    swap(z, i, c);
    i = c;
  }
}

function swap(z: number[], a: number, b: number): void {
  for (let k = 0; k < W; k++) {
    const t = z[a * W + k]!;
    z[a * W + k] = z[b * W + k]!;
    z[b * W + k] = t;
  }
}
