/**
 * How the command line shows what went wrong: one line on stderr, `error: <option or
 * file>: <field>: <value> ...; expected <allowed>`, and with --json one JSON document on
 * stdout, `{"schemaVersion": 2, "error": {"code", "option", "file", "field", "value",
 * "allowed", "message"}}`. A user's mistake is a UserError (shared/errors.ts: a config,
 * an experiment file, a path, a trace, an option here); anything else that reaches the top
 * is a fault (code ERUN), shown the same way, never as a stack trace. main.ts gives each
 * its exit code.
 */
import { CommanderError } from 'commander';
import { flagOf } from '../../shared/config-fields.js';
import { ConfigError, UserError, type ErrorParts, type UserErrorCode } from '../../shared/errors.js';
import { SCHEMA_VERSION } from '../../shared/stats.js';

/** The codes of the error document: a UserError's, EINTR interrupted (exit 130 or 143), ERUN a run or the program failed (exit 1). */
export type ErrorCode = UserErrorCode | 'EINTR' | 'ERUN';

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

/** Messages are one line, whatever a library put in them. */
export const oneLine = (s: string): string =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ');

export const errorDocOf = (code: ErrorCode, message: string, p: Partial<ErrorParts> = {}): ErrorDoc => ({
  code,
  option: p.option ?? null,
  file: p.file ?? null,
  field: p.field ?? null,
  value: p.value === undefined ? null : p.value,
  allowed: p.allowed ?? null,
  message: oneLine(message),
});

/**
 * The document of a user's mistake, or undefined when `err` is none (a fault). A config
 * error is named by the option that sets its field.
 */
export function userErrorDoc(err: unknown): ErrorDoc | undefined {
  if (err instanceof ConfigError && err.parts.option === undefined) {
    const option = flagOf(err.field);
    return errorDocOf('ECONFIG', `${option}: ${err.detail}`, { ...err.parts, option });
  }
  if (err instanceof UserError) return errorDocOf(err.code, err.message, err.parts);
  if (err instanceof CommanderError && err.exitCode !== 0) return errorDocOf('EUSAGE', err.message.replace(/^error: /, ''));
  return undefined;
}

/** The document of a fault (exit 1): its message, one line. */
export function faultDoc(err: unknown): ErrorDoc {
  const message = err instanceof Error ? err.message : String(err);
  return errorDocOf('ERUN', `the run failed: ${message}`);
}

/** Print an error the documented way: the line on stderr, and with `json` the document on stdout. */
export function printError(d: ErrorDoc, json: boolean): void {
  process.stderr.write(`error: ${d.message}\n`);
  if (json) process.stdout.write(JSON.stringify({ schemaVersion: SCHEMA_VERSION, error: d }) + '\n');
}
