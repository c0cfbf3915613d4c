/**
 * `run --live`: a kvm_stat-style view of a run while it goes, on stderr (stdout keeps
 * the result alone, with --json too). Each sample of the replicas (coordinator/execution/live.ts,
 * about once a second) gives, for each KVM debugfs counter (shared/kvm-stat.ts), its
 * total since the statistics began, its rate over the last interval per second of wall
 * time (kvm_stat's "Current"), and its rate per second of guest (simulated) time. On a
 * terminal the view is redrawn in place; otherwise one line per sample (wall and guest
 * time, quanta, exits and their rates). A Ctrl-C cancels the run at the next quantum's
 * boundary (a second one stops at once).
 */
import { KVM_STAT } from '../../shared/kvm-stat.js';
import type { SimConfig } from '../../shared/config.js';
import type { LocalRunner } from '../execution/local.js';
import type { LiveSample } from '../execution/live.js';
import type { SplitRun } from '../execution/split.js';
import { EXIT_CODES } from './outcome.js';
import { grouped } from '../../shared/grouped.js';

const pad = (s: string, n: number) => s.padStart(n);
const int = (x: number) => grouped(Math.round(x));

function header(s: LiveSample): string {
  const exited = s.progress.reduce((a, p) => a + p.exited, 0);
  const guestMs = Math.max(...s.progress.map((p) => p.guestNs)) / 1e6;
  const quanta = Math.max(...s.progress.map((p) => p.quanta));
  return `wall ${s.wallSeconds.toFixed(1)} s  guest ${guestMs.toFixed(2)} ms (measured ${(s.measuredNs / 1e6).toFixed(2)} ms)  quanta ${int(quanta)}  tasks exited ${exited}/${s.progress[0]!.tasks}${s.final ? '  done' : ''}`;
}

/** Rate over the last interval per wall second (a counter restarted since, at the measured part's start, counts from 0). */
function current(name: string, s: LiveSample, prev: LiveSample | undefined): number {
  const dt = s.wallSeconds - (prev?.wallSeconds ?? 0);
  const now = s.counters[name]!;
  const before = prev?.counters[name] ?? 0;
  return dt > 0 ? (now >= before ? now - before : now) / dt : 0;
}

/** The kvm_stat table of a sample. */
export function formatKvmStat(s: LiveSample, prev?: LiveSample): string {
  const guestS = s.measuredNs / 1e9;
  const lines = [header(s), ` ${'Event'.padEnd(18)}${pad('Total', 14)}${pad('Current/s wall', 16)}${pad('Avg/s guest', 16)}`];
  for (const e of KVM_STAT) {
    const total = s.counters[e.name]!;
    lines.push(` ${e.name.padEnd(18)}${pad(int(total), 14)}${pad(int(current(e.name, s, prev)), 16)}${pad(guestS > 0 ? int(total / guestS) : '-', 16)}`);
  }
  return lines.join('\n') + '\n';
}

/** One line of a sample, for a stderr that is not a terminal. */
export function formatLiveLine(s: LiveSample, prev?: LiveSample): string {
  const guestS = s.measuredNs / 1e9;
  const exits = s.counters.exits!;
  return `live: ${header(s)}  exits ${int(exits)} (${int(current('exits', s, prev))}/s wall, ${guestS > 0 ? int(exits / guestS) : '-'}/s guest)\n`;
}

export interface LiveViewOptions {
  intervalMs?: number;
  /** Where the view goes (default process.stderr) and whether it is a terminal. */
  out?: { write(s: string): unknown; isTTY?: boolean };
  /** Called with the final counters (tests). */
  onSample?: (s: LiveSample) => void;
}

/**
 * Run `cfg` live over `placement`, drawing the view. SIGINT cancels: the promise then
 * rejects with RunCancelled (the caller exits 130). Returns the run as runVmSplit does.
 */
export async function runWithLiveView(runner: LocalRunner, cfg: SimConfig, placement: readonly (readonly number[])[], opts: LiveViewOptions = {}): Promise<SplitRun> {
  const out = opts.out ?? process.stderr;
  const tty = out.isTTY === true;
  let prev: LiveSample | undefined;
  let drawn = 0;
  const live = runner.liveVm(cfg, {
    placement,
    onSample: (s) => {
      opts.onSample?.(s);
      if (tty) {
        const text = formatKvmStat(s, prev);
        // Back over the last frame, clear to the end of the screen, draw this one.
        out.write((drawn > 0 ? `\x1b[${drawn}A\x1b[J` : '') + text);
        drawn = text.split('\n').length - 1;
      } else out.write(formatLiveLine(s, prev));
      prev = s;
    },
    intervalMs: opts.intervalMs ?? 1000,
  });
  let interrupts = 0;
  const onSigint = () => {
    if (++interrupts === 1) live.cancel();
    else process.exit(EXIT_CODES.SIGINT);
  };
  process.on('SIGINT', onSigint);
  try {
    return await live.done;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
