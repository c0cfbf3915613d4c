/**
 * The floor the simulator's speed is measured against: a loop doing only the bookkeeping
 * one simulated event needs (a hashed lookup in a typed array, a branch, a counter), in
 * the same process as the runs it is compared with. Its events per second are what a
 * simulator that did nothing else per event could reach on this machine at this moment.
 */

/** Slots of the floor loop's tag array (256 KiB: in a core's L2, as the simulator's hot state is). */
const FLOOR_SLOTS = 1 << 16;

/**
 * Events of the floor loop: `n` lookups of a pseudo-random page number in a tag array,
 * a hit or a miss counted in a statistics array (as the simulator keeps its counters).
 */
export function floorLoop(n: number): number {
  const tag = new Int32Array(FLOOR_SLOTS).fill(-1);
  const counts = new Float64Array(2);
  let x = 1;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
    const vpn = x >>> 11;
    const slot = Math.imul(vpn, 0x9e3779b1) >>> 16;
    if (tag[slot] === vpn) counts[0] = counts[0]! + 1;
    else {
      tag[slot] = vpn;
      counts[1] = counts[1]! + 1;
    }
  }
  return counts[0]! + counts[1]!;
}

/** Events per second of the floor loop: the best of `repeat` passes of `n` events. */
export function floorRate(n = 50_000_000, repeat = 5): number {
  let best = Infinity;
  floorLoop(1_000_000);
  for (let i = 0; i < repeat; i++) {
    const t0 = process.hrtime.bigint();
    const events = floorLoop(n);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (events !== n) throw new Error('floor loop miscounted');
    best = Math.min(best, s);
  }
  return n / best;
}
