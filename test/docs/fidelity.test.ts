/**
 * docs/fidelity.md stays the table of the model's inputs: every cost of the base profile
 * with its value, and every free cost of the calibration with its bounds and the value the
 * fitted profile holds.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { yaml } from '../../shared/lazy-lib.js';
import { COST_NAMES, CORE2_2007 } from '../../shared/costs.js';

const doc = readFileSync(new URL('../../docs/fidelity.md', import.meta.url), 'utf8');
const spec = yaml().parse(readFileSync(new URL('../../experiments/calibration/core2-2007.yaml', import.meta.url), 'utf8')) as { free: { cost: string; min: number; max: number }[] };
const fitted = JSON.parse(readFileSync(new URL('../../profiles/core2-2007-fitted.json', import.meta.url), 'utf8')) as { costs: Record<string, { value: number }> };

const row = (cost: string): string[] => {
  const line = doc.split('\n').find((l) => l.startsWith(`| \`${cost}\` |`));
  return line ? line.split('|').slice(1, -1).map((c) => c.trim()) : [];
};

describe('docs/fidelity.md', () => {
  it('lists every cost with its estimate', () => {
    for (const name of COST_NAMES) expect(row(name)[1], name).toBe(String(CORE2_2007.costs[name].value));
  });

  it('gives every free cost its bounds and its fitted value', () => {
    const free = doc.slice(doc.indexOf('## 3.'), doc.indexOf('## 4.'));
    for (const f of spec.free) {
      // The table of free costs gives the bounds; the fit's generated block gives the fitted value.
      const lines = free.split('\n').filter((l) => l.startsWith(`| \`${f.cost}\` |`));
      expect(lines, f.cost).toHaveLength(2);
      expect(lines[0]).toContain(`[${f.min}, ${f.max}]`);
      expect(lines[1]!.split('|')[2]!.trim()).toBe(String(fitted.costs[f.cost]!.value));
    }
  });
});
