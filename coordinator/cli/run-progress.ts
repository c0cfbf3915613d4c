/**
 * `run` on a terminal: one progress line on stderr, redrawn about once a second, while the
 * run goes — simulated (guest) time so far, tasks exited of the VM's tasks, quanta, and
 * wall time. The run goes over the live control path (coordinator/execution/live.ts, worker/live.ts:
 * progress answered between quanta), whose statistics are the same as the plain path's.
 * The line is cleared when the run ends, so stderr keeps only what it kept before.
 * How far a run is cannot be said as a fraction: it ends when its tasks exit.
 */
import type { SimConfig } from '../../shared/config.js';
import type { LocalRunner } from '../execution/local.js';
import type { LiveSample } from '../execution/live.js';
import type { SplitRun } from '../execution/split.js';
import { grouped } from '../../shared/grouped.js';

/** Erase the current terminal line (carriage return, erase to end of line). */
export const CLEAR_LINE = '\r\x1b[K';

/** The progress line of a sample. */
export function formatProgressLine(s: LiveSample): string {
  const guestMs = Math.max(...s.progress.map((p) => p.guestNs)) / 1e6;
  const quanta = Math.max(...s.progress.map((p) => p.quanta));
  const exited = s.progress.reduce((a, p) => a + p.exited, 0);
  return `run: guest ${guestMs.toFixed(2)} ms simulated, tasks exited ${exited}/${s.progress[0]!.tasks}, quanta ${grouped(quanta)}, elapsed ${Math.round(s.wallSeconds)} s`;
}

/** Run `cfg` over `placement`, drawing the progress line on `out` (a terminal). */
export async function runWithProgressLine(
  runner: LocalRunner,
  cfg: SimConfig,
  placement: readonly (readonly number[])[],
  out: { write(s: string): unknown } = process.stderr,
  intervalMs = 1000,
): Promise<SplitRun> {
  let drawn = false;
  const live = runner.liveVm(cfg, {
    placement,
    onSample: (s) => {
      if (s.final) return;
      out.write(CLEAR_LINE + formatProgressLine(s));
      drawn = true;
    },
    intervalMs,
  });
  try {
    return await live.done;
  } finally {
    if (drawn) out.write(CLEAR_LINE);
  }
}
