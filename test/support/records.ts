/** The store's record files in a directory, as the fault tests check them. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { recordProblem } from '../../coordinator/store/record.js';

export const RECORD = /^[0-9a-f]{20}\.json$/;
export const names = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).sort() : []);
export const records = (dir: string): string[] => names(dir).filter((f) => RECORD.test(f));
/** "1,2,...,n": a --seed list. */
export const seeds = (n: number): string => Array.from({ length: n }, (_, i) => i + 1).join(',');

/** Every record in `dir` is whole and is what its name says; returns them by name. */
export function checkRecords(dir: string): Map<string, { key: string; config: { seed: number }; result: unknown }> {
  const out = new Map<string, { key: string; config: { seed: number }; result: unknown }>();
  for (const f of records(dir)) {
    const rec = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    expect(`${rec.key}.json`).toBe(f);
    expect(recordProblem(rec, rec.config, rec.key)).toBeUndefined();
    out.set(f, rec);
  }
  return out;
}
