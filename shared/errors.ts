/**
 * The mistakes a user can cause, as data. Every one is a `UserError`: a stable `code` and
 * the parts a message is made of — the option or argument, the file, the field, the
 * value and what is allowed — so that the command line prints each the same way (one
 * line, and with --json one document; coordinator/cli/main.ts) and gives it exit code 2.
 * Kept apart from the schemas so that the simulation, which throws ConfigError when a
 * workload does not fit, and the trace readers load no validation library.
 */

import { flagOf } from './config-fields.js';

/** The longest value a message shows whole. */
const SHOWN = 80;

/** A value as messages show it: numbers and booleans bare, anything else as JSON (a long one cut, with its length). */
export function formatValue(v: unknown): string {
  if (v === undefined) return 'a missing value';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  // JSON.stringify gives undefined for a function or a symbol: show its type.
  const json = JSON.stringify(v) ?? `a ${typeof v}`;
  return json.length <= SHOWN ? json : `${json.slice(0, SHOWN)}... (${json.length} characters)`;
}

/** "<value> is not allowed; expected <allowed>": how every message about a bad value reads. */
export function notAllowed(value: unknown, allowed: string): string {
  return `${formatValue(value)} is not allowed; expected ${allowed}`;
}

/**
 * EUSAGE an option or argument; ECONFIG a config field; EEXPERIMENT an experiment file;
 * EPATH a path the command cannot use; ESTORE the result store is in the way.
 */
export type UserErrorCode = 'EUSAGE' | 'ECONFIG' | 'EEXPERIMENT' | 'EPATH' | 'ESTORE';

/** What a message says a mistake is about. */
export interface ErrorParts {
  /** The option the value came from (`--tasks`), or the argument (`report`). */
  option?: string;
  /** The file or path it is about. */
  file?: string;
  /** The config field, or the place in a file (`grid.tasks[1]`, `line 927`). */
  field?: string;
  value?: unknown;
  /** What is allowed, in words. */
  allowed?: string;
  /** The message after option, file and field; default `<value> is not allowed; expected <allowed>`. */
  detail: string;
}

/** The base of every mistake a user can cause: exit code 2, one line. */
export class UserError extends Error {
  readonly code: UserErrorCode;
  readonly parts: ErrorParts;
  constructor(code: UserErrorCode, parts: ErrorParts, message?: string, options?: { cause?: unknown }) {
    super(message ?? [parts.option, parts.file, parts.field, parts.detail].filter((p) => p !== undefined && p !== '').join(': '), options);
    this.name = new.target.name;
    this.code = code;
    this.parts = parts;
  }
}

/** A mistake in how a command was used: an option, an argument, a path, the store in the way. */
export class UsageError extends UserError {
  constructor(parts: Omit<ErrorParts, 'detail'> & { detail?: string }, code: 'EUSAGE' | 'EPATH' | 'ESTORE' = 'EUSAGE') {
    const detail = parts.detail ?? notAllowed(parts.value, parts.allowed ?? 'something else');
    // The field is named unless the option already names it (`--tasks` sets tasks).
    const field = parts.field !== undefined && parts.option !== undefined && flagOf(parts.field) === parts.option ? undefined : parts.field;
    super(code, { ...parts, detail }, [parts.option, parts.file, field, detail].filter((p) => p !== undefined && p !== '').join(': '));
  }
}

/** A user mistake in a config: names the field, the value and what is allowed. */
export class ConfigError extends UserError {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly allowed: string,
    /** The message without the field; default "<value> is not allowed; expected <allowed>". */
    detail = notAllowed(value, allowed),
  ) {
    super('ECONFIG', { field, value, allowed, detail });
  }

  /** The message without the field. */
  get detail(): string {
    return this.parts.detail;
  }
}
