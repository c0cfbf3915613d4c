/**
 * The cost profiles of today: every cost has its note; a cost carried from the fitted Core 2
 * profile has the fitted value (scripts/carry-costs.js copies it after a new fit); every
 * other one says where it comes from, with its bounds where it is an estimate.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COST_NAMES, PROFILES } from '../../shared/costs.js';

const dir = join(import.meta.dirname, '..', '..', 'profiles');
const today = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { name: string; costs: Record<string, { value: number; note: string; off?: { value: number; note: string } }> })
  .filter((p) => p.name !== 'core2-2007-fitted');

describe('profiles of today', () => {
  it('exist: an Intel server core and an AMD Zen core', () => {
    expect(today.map((p) => p.name).sort()).toEqual(['skylake-sp-2017', 'zen2-2019']);
  });

  for (const p of today) {
    it(`${p.name}: every cost, each carried one at the fitted value, each other with a source or bounds`, () => {
      expect(Object.keys(p.costs).sort()).toEqual([...COST_NAMES].sort());
      const fitted = PROFILES['core2-2007-fitted']!;
      for (const [name, c] of Object.entries(p.costs)) {
        if (c.note.startsWith('carried from core2-2007-fitted')) expect(c.value, name).toBe(fitted.costs[name as (typeof COST_NAMES)[number]].value);
        else expect(c.note.length, name).toBeGreaterThan(20);
        if (c.note.includes('estimate')) expect(c.note, name).toMatch(/within \[\d+(\.\d+)?, \d+(\.\d+)?\]/);
        if (c.off) expect(c.off.note.length, name).toBeGreaterThan(20);
      }
    });
  }
});
