/**
 * Progress of a sweep on stderr: a cli-progress bar when stderr is a terminal and the
 * output is not --json; nothing otherwise (logs and pipes stay clean).
 */
import { createRequire } from 'node:module';
import type * as CliProgress from 'cli-progress';

// cli-progress (CommonJS) loads when a bar is drawn, not at start-up (--help, list, pipes).
const require = createRequire(import.meta.url);

export interface Progress {
  /** One more config done (run, skipped or failed). */
  tick(status: string): void;
  /** A line that must not be torn by the bar (a failure). */
  log(line: string): void;
  stop(): void;
}

export function createProgress(total: number, opts: { enabled: boolean; title?: string }): Progress {
  if (!opts.enabled || total === 0) {
    return { tick() {}, log: (line) => process.stderr.write(line + '\n'), stop() {} };
  }
  const { SingleBar, Presets } = require('cli-progress') as typeof CliProgress;
  const bar = new SingleBar(
    {
      stream: process.stderr,
      format: `${opts.title ? opts.title + ' ' : ''}{bar} {value}/{total} runs | {percentage}% | eta {eta_formatted} | {status}`,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 20,
    },
    Presets.shades_classic,
  );
  bar.start(total, 0, { status: '' });
  let stopped = false;
  return {
    tick(status) {
      bar.increment(1, { status });
    },
    log(line) {
      // Clear the bar's line, print, and let the next update redraw it.
      process.stderr.write('\r\x1b[K' + line + '\n');
      bar.updateETA();
      bar.render();
    },
    stop() {
      if (!stopped) bar.stop();
      stopped = true;
    },
  };
}

/** Whether to show a bar: stderr is a terminal and stdout is not reserved for JSON. */
export const progressWanted = (json: boolean): boolean => process.stderr.isTTY === true && !json;
