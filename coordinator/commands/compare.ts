/**
 * `vcpusim compare A B`: the stored runs of two experiments, sweeps or store directories
 * side by side — per figure A, B, the difference, the ratio and, over replicates, their
 * intervals (reports/compare.ts).
 */
import { failed, ok, type Outcome } from '../cli/outcome.js';
import { expand } from '../experiments/expand.js';
import { experimentsDirOf } from '../experiments/load.js';
import { resolveCompareSide } from '../experiments/resolve.js';
import type { CompareSide } from '../reports/compare.js';
import type { Format } from '../reports/format.js';
import { displayPath } from '../store/files.js';
import type { RunRecord } from '../store/record.js';

export interface CompareOptions {
  results: string;
  experiments: string;
  format: Format;
}

/** A side's stored runs (what cannot be trusted is said once and left out). */
function side(arg: string, o: CompareOptions): CompareSide {
  const { exp, store, source } = resolveCompareSide(arg, o.results, o.experiments, experimentsDirOf);
  const records = expand(exp)
    .configs.map((c) => {
      const l = store.lookup(c);
      if (l.kind === 'invalid' || l.kind === 'blocked') process.stderr.write(`${displayPath(l.path)}: ${l.reason}; it is left out\n`);
      return l.kind === 'record' ? l.record : undefined;
    })
    .filter((r): r is RunRecord => r !== undefined);
  return { arg, experiment: exp.name, source, results: store.dir, records };
}

export async function compareCommand(a: string, b: string, o: CompareOptions): Promise<Outcome> {
  const { compare, formatComparison } = await import('../reports/compare.js');
  const sides = [side(a, o), side(b, o)] as const;
  for (const s of sides) {
    if (s.records.length === 0) {
      process.stderr.write(`${s.arg}: no stored results in ${displayPath(s.results)}; run it first\n`);
      return failed();
    }
  }
  const c = compare(sides[0], sides[1]);
  const out = formatComparison({ ...c, a: { ...c.a, results: displayPath(c.a.results) }, b: { ...c.b, results: displayPath(c.b.results) } }, o.format);
  if (c.rows.length === 0) {
    process.stderr.write(`${a} and ${b}: no run of one matches a run of the other on ${c.matchedOn.join(', ') || 'their config'}\n`);
    return failed(out);
  }
  return ok(out);
}
