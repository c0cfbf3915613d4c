/**
 * How a command ends, and the one table that turns it into the process's exit code:
 * 0 ok; 1 some run failed, or a report found nothing stored; 2 a usage, config or path
 * error (a UserError, found before the first run where it can be); 130 interrupted by
 * SIGINT, 143 by SIGTERM (128 + the signal's number). A command returns its Outcome
 * (main.ts writes its stdout and exits with its code); a signal that stops a command at
 * once goes through `stopNow`.
 */
import { printError } from './errors.js';

export type StopSignal = 'SIGINT' | 'SIGTERM';

/** What a command ends with: `stdout` is its report or document, written by main.ts once the exit code is known. */
export interface Outcome {
  status: 'ok' | 'failed' | StopSignal;
  stdout?: string;
}

export const EXIT_CODES = { ok: 0, failed: 1, usage: 2, SIGINT: 130, SIGTERM: 143 } as const;

export const ok = (stdout?: string): Outcome => ({ status: 'ok', ...(stdout !== undefined ? { stdout } : {}) });
export const failed = (stdout?: string): Outcome => ({ status: 'failed', ...(stdout !== undefined ? { stdout } : {}) });

export function exitCodeOf(o: Outcome): number {
  return EXIT_CODES[o.status];
}

/**
 * Stop the process at once on a signal: the line (and with --json the error document)
 * says what was kept, and the exit code is the signal's.
 */
export function stopNow(signal: StopSignal, message: string, json: boolean): never {
  printError({ code: 'EINTR', option: null, file: null, field: null, value: signal, allowed: null, message }, json);
  process.exit(EXIT_CODES[signal]);
}

/**
 * While runs go on, SIGINT and SIGTERM stop the process at once (stopNow), with the line
 * `stopped(signal)` returns. Runs happen in worker threads, so this thread is always free
 * to take the signal; every record is written synchronously between two events, so none
 * is ever half written. Returns the function that removes the handlers.
 */
export function stopOnSignals(json: boolean, stopped: (signal: StopSignal) => string, before?: () => void): () => void {
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((signal) => {
    const h = () => {
      before?.();
      stopNow(signal, stopped(signal), json);
    };
    process.on(signal, h);
    return [signal, h] as const;
  });
  return () => {
    for (const [signal, h] of handlers) process.removeListener(signal, h);
  };
}
