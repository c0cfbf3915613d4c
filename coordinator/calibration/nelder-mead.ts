/**
 * Nelder–Mead downhill simplex (Nelder & Mead 1965; the variant of Lagarias et al. 1998:
 * reflection 1, expansion 2, contraction 1/2, shrink 1/2), minimising f over the unit
 * box [0,1]^n (points are clamped into it). Deterministic: the same start gives the
 * same path. The objective may be asynchronous (its runs spread over worker threads). No maintained npm package offers it for plain arrays, so it is here, short.
 */
export interface NelderMeadOptions {
  /** Initial step along each axis from the start point. */
  step?: number;
  maxEvaluations?: number;
  /** Stop when the simplex's values differ by less than this. */
  tolerance?: number;
  /** Called after each evaluation. */
  onEvaluation?: (x: readonly number[], fx: number, evaluations: number) => void;
}

export interface NelderMeadResult {
  x: number[];
  fx: number;
  evaluations: number;
}

const clamp = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

export async function nelderMead(f: (x: readonly number[]) => number | Promise<number>, start: readonly number[], opts: NelderMeadOptions = {}): Promise<NelderMeadResult> {
  const n = start.length;
  const step = opts.step ?? 0.15;
  const maxEval = opts.maxEvaluations ?? 200 * n;
  const tol = opts.tolerance ?? 1e-6;
  let evaluations = 0;
  const evaluate = async (x: number[]): Promise<number> => {
    const fx = await f(x);
    evaluations++;
    opts.onEvaluation?.(x, fx, evaluations);
    return fx;
  };
  const simplex: { x: number[]; fx: number }[] = [];
  const x0 = start.map(clamp);
  simplex.push({ x: x0, fx: await evaluate(x0) });
  for (let i = 0; i < n; i++) {
    const x = x0.slice();
    x[i] = x[i]! + step <= 1 ? x[i]! + step : x[i]! - step;
    simplex.push({ x, fx: await evaluate(x) });
  }
  const combine = (a: number[], b: number[], t: number) => a.map((ai, i) => clamp(ai + t * (b[i]! - ai)));
  while (evaluations < maxEval) {
    simplex.sort((p, q) => p.fx - q.fx);
    const best = simplex[0]!;
    const worst = simplex[n]!;
    if (Math.abs(worst.fx - best.fx) < tol) break;
    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centroid[j]! += simplex[i]!.x[j]! / n;
    const xr = combine(centroid, worst.x, -1);
    const fr = await evaluate(xr);
    if (fr < best.fx) {
      const xe = combine(centroid, worst.x, -2);
      const fe = await evaluate(xe);
      simplex[n] = fe < fr ? { x: xe, fx: fe } : { x: xr, fx: fr };
      continue;
    }
    if (fr < simplex[n - 1]!.fx) {
      simplex[n] = { x: xr, fx: fr };
      continue;
    }
    const outside = fr < worst.fx;
    const xc = outside ? combine(centroid, xr, 0.5) : combine(centroid, worst.x, 0.5);
    const fc = await evaluate(xc);
    if (fc < (outside ? fr : worst.fx)) {
      simplex[n] = { x: xc, fx: fc };
      continue;
    }
    for (let i = 1; i <= n; i++) {
      const xs = combine(best.x, simplex[i]!.x, 0.5);
      simplex[i] = { x: xs, fx: await evaluate(xs) };
    }
  }
  simplex.sort((p, q) => p.fx - q.fx);
  return { x: simplex[0]!.x, fx: simplex[0]!.fx, evaluations };
}
