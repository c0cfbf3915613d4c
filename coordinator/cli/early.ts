/**
 * The thread of a `run` started before the command line is parsed. A worker thread takes
 * ~120 ms to start (node's worker bootstrap, piscina, the simulator's bundle), and this
 * thread takes about as long to load the command line's modules and check the config: the
 * two now overlap instead of following each other. Only for the plain case: `run` on one
 * thread (no --workers). A command that does not take the thread (an error, --help) has
 * it stopped by main() before the process exits.
 */
import type { LocalRunner } from '../execution/local.js';

let early: Promise<LocalRunner> | undefined;

/** Whether `argv` (as process.argv) is a `run` on one thread, from its words alone. */
function runOnOneThread(argv: readonly string[]): boolean {
  if (argv[2] !== 'run') return false;
  return !argv.some((a) => a === '--workers' || a.startsWith('--workers=') || a === '--help' || a === '-h');
}

/**
 * Starts `argv`'s thread now if it is a plain run (bin/vcpusim.js, before it loads main);
 * resolves once the thread is starting. The runner's modules load first, on their own: loaded
 * together with the command line's, the thread would start only once both were in.
 */
export async function startEarly(argv: readonly string[]): Promise<void> {
  if (early || !runOnOneThread(argv)) return;
  early = import('../execution/local.js').then(({ LocalRunner }) => new LocalRunner({ threads: 1 }).start());
  // A failure to start shows when the command takes the runner, not here.
  await early.catch(() => {});
}

/** The runner started early, if any: the caller owns it from now on (and closes it). */
export function takeEarly(): Promise<LocalRunner> | undefined {
  const e = early;
  early = undefined;
  return e;
}

/** Stops a runner started early that no command took. */
export async function closeEarly(): Promise<void> {
  const e = takeEarly();
  if (e) await (await e.catch(() => undefined))?.close();
}
