/**
 * A user mistake in a config, as data: the field, the value and what is allowed. Kept
 * apart from the schema (config.ts) so that the simulation, which throws it when a
 * workload does not fit, loads no validation library.
 */

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

/** A user mistake in a config: names the field, the value and what is allowed. */
export class ConfigError extends Error {
  readonly code = 'ECONFIG';
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly allowed: string,
  ) {
    super(`${field}: ${notAllowed(value, allowed)}`);
    this.name = 'ConfigError';
  }

  /** The message without the field: "<value> is not allowed; expected <allowed>". */
  get detail(): string {
    return notAllowed(this.value, this.allowed);
  }
}
