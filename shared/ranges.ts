/**
 * Integer ranges in value lists, on the command line (`--cache-size 1..64:x2`) and in
 * experiment files (`grid: { cacheSize: [1..64:x2] }` or `cacheSize: 1..64:x2`):
 *
 *   a..b      a, a+1, ..., b
 *   a..b:+k   a, a+k, a+2k, ... up to b (k >= 1)
 *   a..b:xk   a, a*k, a*k*k, ... up to b (k >= 2, a >= 1): powers of two with x2
 *
 * Both ends are integers and a <= b; the last value is the largest step not past b. A
 * range of more than MAX_RANGE values is refused before any is made.
 */
import { UserError } from './errors.js';

/** The most values one range may give (the most points a sweep may have). */
export const MAX_RANGE = 100_000;

/** What a range may be, in words (for messages). */
export const RANGE_ALLOWED = 'an integer range a..b, a..b:+step or a..b:xfactor (a <= b; step >= 1; factor >= 2 with a >= 1)';

const RANGE = /^([+-]?\d+)\.\.([+-]?\d+)(?::([+x])(\d+))?$/;

/** Whether a text is meant as a range (has `..`): it is then parsed as one, or refused. */
export const looksLikeRange = (text: string): boolean => text.includes('..');

/** The values of a range, or why it is not one (a phrase that follows the text: `"64..1" starts at 64, past its end 1`). */
export function parseRange(text: string): { values: number[] } | { error: string } {
  const m = RANGE.exec(text.trim());
  if (!m) return { error: 'is not a range' };
  const a = Number(m[1]);
  const b = Number(m[2]);
  const op = m[3];
  const k = m[4] === undefined ? 1 : Number(m[4]);
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || !Number.isSafeInteger(k)) return { error: 'has an end or step too large' };
  if (a > b) return { error: `starts at ${a}, past its end ${b}` };
  if (op === 'x') {
    if (k < 2) return { error: `has a factor ${k}, which does not grow` };
    if (a < 1) return { error: `is geometric and starts at ${a}, not 1 or more` };
    const values: number[] = [];
    for (let v = a; v <= b; v *= k) values.push(v);
    return { values };
  }
  if (k < 1) return { error: `has a step ${k}, which does not advance` };
  const count = Math.floor((b - a) / k) + 1;
  if (count > MAX_RANGE) return { error: `has ${count} values, more than ${MAX_RANGE}` };
  return { values: Array.from({ length: count }, (_, i) => a + i * k) };
}

/** A comma list whose items may be ranges: the numbers in order, or the first bad item and why. */
export function expandList(raw: string, one: (part: string) => number): number[] {
  const out: number[] = [];
  for (const part of raw.split(',')) {
    if (!looksLikeRange(part)) {
      out.push(one(part));
      continue;
    }
    const r = parseRange(part);
    if ('error' in r) throw new RangeListError(part, r.error);
    out.push(...r.values);
  }
  return out;
}

/** A bad range in a list: the item and the reason. */
export class RangeListError extends UserError {
  constructor(
    readonly item: string,
    readonly reason: string,
  ) {
    super('EUSAGE', { value: item, allowed: RANGE_ALLOWED, detail: `${JSON.stringify(item)} ${reason}; expected ${RANGE_ALLOWED}` });
  }
}

/**
 * The items of a value list in an experiment file with every range string expanded in
 * place (other items kept as they are); stops once the list is longer than `limit`.
 * A bad range gives its index and why.
 */
export function expandRangeItems(items: readonly unknown[], limit = MAX_RANGE): { values: unknown[] } | { index: number; error: string } {
  const values: unknown[] = [];
  for (let i = 0; i < items.length && values.length <= limit; i++) {
    const v = items[i];
    if (typeof v !== 'string' || !looksLikeRange(v)) {
      values.push(v);
      continue;
    }
    const r = parseRange(v);
    if ('error' in r) return { index: i, error: `${JSON.stringify(v)} ${r.error}; expected ${RANGE_ALLOWED}` };
    for (const x of r.values) values.push(x);
  }
  return { values };
}
