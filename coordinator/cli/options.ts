/**
 * Parsers of option values: each turns what was typed into a value or throws the
 * UsageError that names the option and what it allows (commander calls them as it reads
 * the command line, so a bad value stops the command before anything runs).
 */
import { Option } from 'commander';
import { CONFIG_FIELDS, allowedOf, configSchema, isConfigField, type SimConfig } from '../../shared/config.js';
import { RangeListError, expandList } from '../../shared/ranges.js';
import { UsageError } from '../../shared/errors.js';

/** A decimal integer as typed: digits with an optional sign (no hex, exponents or spaces). */
export const INTEGER = /^[+-]?\d+$/;

/** A decimal number as typed. */
export const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** An integer option within bounds. */
export function intInRange(option: string, min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!INTEGER.test(raw) || n < min || n > max) throw new UsageError({ option, value: INTEGER.test(raw) ? n : raw, allowed: `an integer from ${min} to ${max}` });
    return n;
  };
}

/** A path option: not empty. */
export function pathOption(option: string) {
  return (raw: string): string => {
    if (raw === '') throw new UsageError({ option, value: raw, allowed: 'a path' });
    return raw;
  };
}

/** A choice option whose bad value is a UsageError like every other (commander's `.choices` shows the choices in --help). */
export function choiceOption(flags: string, description: string, choices: readonly string[]): Option {
  const option = new Option(flags, description).choices(choices);
  const name = option.long!;
  return option.argParser((raw: string) => {
    if (!choices.includes(raw)) throw new UsageError({ option: name, value: raw, allowed: `one of ${choices.join(', ')}` });
    return raw;
  });
}

/** A comma list whose items may be ranges (shared/ranges.ts); a bad range is the option's usage error. */
export function rangeList(option: string, field: keyof SimConfig, raw: string, one: (part: string) => number): number[] {
  try {
    return expandList(raw, one);
  } catch (err) {
    if (err instanceof RangeListError) throw new UsageError({ ...err.parts, option, field });
    throw err;
  }
}

export const stringList = (raw: string): string[] => raw.split(',').map((s) => s.trim());

/** A value typed on the command line, as a config value: true/false, a decimal number, or a string. */
export function parseScalar(raw: string): string | number | boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (NUMBER.test(raw)) return Number(raw);
  return raw;
}

/** --cpus: a comma list of CPU numbers. */
export function cpuListOption(raw: string): number[] {
  const out: number[] = [];
  for (const p of raw.split(',').map((s) => s.trim())) {
    if (!/^\d+$/.test(p) || Number(p) > 4095) throw new UsageError({ option: '--cpus', value: raw, allowed: 'a comma list of CPU numbers from 0 to 4095' });
    if (!out.includes(Number(p))) out.push(Number(p));
  }
  return out;
}

/** `--where field=value` filters (repeatable); the value must be one the field takes. */
export function whereOption(raw: string, prev: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = raw.indexOf('=');
  const field = raw.slice(0, eq);
  if (eq <= 0 || !isConfigField(field)) {
    throw new UsageError({ option: '--where', value: raw, allowed: `field=value with a field among ${CONFIG_FIELDS.join(', ')}` });
  }
  const value = parseScalar(raw.slice(eq + 1));
  if (!configSchema().shape[field].safeParse(value).success) throw new UsageError({ option: '--where', field, value, allowed: allowedOf(field) });
  return { ...prev, [field]: value };
}

/** --kthreads: a regular expression. */
export function regexOption(option: string) {
  return (raw: string): RegExp => {
    try {
      return new RegExp(raw);
    } catch {
      throw new UsageError({ option, value: raw, allowed: 'a JavaScript regular expression' });
    }
  };
}
