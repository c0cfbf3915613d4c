/**
 * A user's mistake as data, and the one place that turns any of them into what the
 * command line shows: one line on stderr, `error: <option or file>: <field>: <value> ...;
 * expected <allowed>`, and with --json one JSON document on stdout,
 * `{"schemaVersion": 2, "error": {"code", "option", "file", "field", "value", "allowed", "message"}}`.
 * Exit code 2. Anything else that reaches the top is a fault (exit 1), shown the same way
 * with the code ERUN, never as a stack trace.
 */
import { CommanderError } from 'commander';
import { ConfigError, FIELD_SPECS, isConfigField, notAllowed } from '../shared/config.js';
import { SCHEMA_VERSION } from '../shared/stats.js';
import { ExperimentError } from './experiments.js';
import { FileProblem } from './files.js';

/**
 * EUSAGE an option or argument; ECONFIG a config field; EEXPERIMENT an experiment file;
 * EPATH a path the command cannot use; ESTORE the result store is in the way;
 * EINTR interrupted (exit 130 or 143); ERUN a run or the program failed (exit 1).
 */
export type ErrorCode = 'EUSAGE' | 'ECONFIG' | 'EEXPERIMENT' | 'EPATH' | 'ESTORE' | 'EINTR' | 'ERUN';

/** What a message says a mistake is about. */
export interface ErrorParts {
  /** The option the value came from (`--tasks`), or the argument (`report`). */
  option?: string;
  /** The file or path it is about. */
  file?: string;
  /** The config field, or the place in a file (`grid.tasks[1]`). */
  field?: string;
  value?: unknown;
  /** What is allowed, in words. */
  allowed?: string;
  /** The message after option, file and field; default `<value> is not allowed; expected <allowed>`. */
  detail?: string;
}

/** A mistake in how the command was used: an option, an argument, a path. Exit code 2. */
export class UsageError extends Error {
  readonly code: 'EUSAGE' | 'EPATH' | 'ESTORE';
  readonly parts: ErrorParts;
  constructor(parts: ErrorParts, code: 'EUSAGE' | 'EPATH' | 'ESTORE' = 'EUSAGE') {
    const detail = parts.detail ?? notAllowed(parts.value, parts.allowed ?? 'something else');
    // The field is named unless the option already names it (`--tasks` sets tasks).
    const field = parts.field !== undefined && parts.option !== undefined && flagOf(parts.field) === parts.option ? undefined : parts.field;
    super([parts.option, parts.file, field, detail].filter((p) => p !== undefined && p !== '').join(': '));
    this.name = 'UsageError';
    this.code = code;
    this.parts = { ...parts, detail };
  }
}

/** The JSON form of an error (every key present, null where it does not apply). */
export interface ErrorDoc {
  code: ErrorCode;
  option: string | null;
  file: string | null;
  field: string | null;
  value: unknown;
  allowed: string | null;
  /** The line printed on stderr, without `error: `. */
  message: string;
}

/** The option a user typed for a config field. */
export const flagOf = (field: string): string => (isConfigField(field) ? FIELD_SPECS[field].option?.flag : undefined) ?? `--param ${field}`;

const doc = (code: ErrorCode, message: string, p: ErrorParts = {}): ErrorDoc => ({
  code,
  option: p.option ?? null,
  file: p.file ?? null,
  field: p.field ?? null,
  value: p.value === undefined ? null : p.value,
  allowed: p.allowed ?? null,
  message: oneLine(message),
});

/** Messages are one line, whatever a library put in them. */
export const oneLine = (s: string): string =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ');

/**
 * The document of a user's mistake, or undefined when `err` is none (a fault). A config
 * error is named by the option that sets its field.
 */
export function userErrorDoc(err: unknown): ErrorDoc | undefined {
  if (err instanceof UsageError) return doc(err.code, err.message, err.parts);
  if (err instanceof ConfigError) {
    const option = flagOf(err.field);
    return doc('ECONFIG', `${option}: ${err.detail}`, { option, field: err.field, value: err.value, allowed: err.allowed });
  }
  if (err instanceof ExperimentError) {
    const cause = err.cause instanceof ConfigError ? err.cause : undefined;
    return doc('EEXPERIMENT', err.message, { file: err.file, field: err.field || undefined, value: cause?.value, allowed: cause?.allowed });
  }
  if (err instanceof FileProblem) return doc('EPATH', err.message, { file: err.path });
  if (err instanceof CommanderError && err.exitCode !== 0) return doc('EUSAGE', err.message.replace(/^error: /, ''));
  return undefined;
}

/** The document of a fault (exit 1): its message, one line. */
export function faultDoc(err: unknown): ErrorDoc {
  const message = err instanceof Error ? err.message : String(err);
  return doc('ERUN', `the run failed: ${message}`);
}

/** Print an error the documented way: the line on stderr, and with `json` the document on stdout. */
export function printError(d: ErrorDoc, json: boolean): void {
  process.stderr.write(`error: ${d.message}\n`);
  if (json) process.stdout.write(JSON.stringify({ schemaVersion: SCHEMA_VERSION, error: d }) + '\n');
}
