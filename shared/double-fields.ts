/**
 * Numeric fields that will hold fractions or cycle counts (above 2^30) made doubles from
 * the first object on. V8 stores a field that has only held small integers as one; the
 * first fraction changes the field's representation, gives every such object a new shape
 * and throws away the code compiled for the old one (a "wrong map" deoptimisation in each
 * function that had seen it, recompiled later). Storing a fraction once in the
 * constructor, then the real value, settles the representation before any code runs.
 */
export function asDoubles<T extends object>(o: T, ...fields: readonly (keyof T & string)[]): void {
  const r = o as Record<string, number>;
  for (const f of fields) {
    const v = r[f]!;
    r[f] = 0.5;
    r[f] = v;
  }
}
