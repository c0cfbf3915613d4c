/**
 * The hit rate of a per-CPU cr3 cache of every size 1..MAX_CACHE at once, for a sequence of
 * cr3 loads (address-space ids), under three policies:
 * - LRU, from one pass of LRU stack distances (Mattson et al., 1970): a load hits a cache
 *   of k entries iff fewer than k distinct address spaces were loaded since its last load;
 * - the patch's round-robin fill: on a miss the entry at cr3_cache_idx is replaced and the
 *   index advances (kvm_cr3_cache_fill in the paravirt patch); a hit changes nothing;
 * - Belady's optimal replacement (MIN): on a miss, evict the entry loaded again farthest in
 *   the future; the upper bound of any policy that must cache what it loads.
 * The entry being loaded becomes current, so a cache of one entry never hits (the current
 * address space is never loaded again without another in between).
 */

export const MAX_CACHE = 64;

/** Hits per cache size: hits[k - 1] for a cache of k entries. */
export type HitsBySize = Float64Array;

/** A stack algorithm's hits per size: a load found at depth d hits every cache of more than d entries. */
function hitsFromDepths(atDepth: Float64Array): HitsBySize {
  const hits = new Float64Array(atDepth.length);
  let sum = 0;
  for (let k = 0; k < atDepth.length; k++) {
    sum += atDepth[k]!;
    hits[k] = sum;
  }
  return hits;
}

/** LRU hits for every size, from stack distances kept up to MAX_CACHE deep. */
export function lruHits(loads: Int32Array, maxSize = MAX_CACHE): HitsBySize {
  const stack = new Int32Array(maxSize);
  let depth = 0;
  const atDistance = new Float64Array(maxSize);
  for (let i = 0; i < loads.length; i++) {
    const x = loads[i]!;
    let p = 0;
    while (p < depth && stack[p] !== x) p++;
    if (p < depth) atDistance[p]!++;
    else if (depth < maxSize) p = depth++;
    else p = maxSize - 1;
    // Move to the top (the entry at p, or the bottom one dropped).
    for (let j = p; j > 0; j--) stack[j] = stack[j - 1]!;
    stack[0] = x;
  }
  return hitsFromDepths(atDistance);
}

/** Hits of the patch's round-robin fill for every size. */
export function roundRobinHits(loads: Int32Array, maxSize = MAX_CACHE): HitsBySize {
  const hits = new Float64Array(maxSize);
  const entries = new Int32Array(maxSize);
  let spaces = 0;
  for (let i = 0; i < loads.length; i++) if (loads[i]! + 1 > spaces) spaces = loads[i]! + 1;
  const cached = new Uint8Array(spaces);
  for (let k = 1; k <= maxSize; k++) {
    entries.fill(-1);
    cached.fill(0);
    let idx = 0;
    let h = 0;
    for (let i = 0; i < loads.length; i++) {
      const x = loads[i]!;
      if (cached[x]) h++;
      else {
        const old = entries[idx]!;
        if (old >= 0) cached[old] = 0;
        entries[idx] = x;
        cached[x] = 1;
        idx = idx + 1 === k ? 0 : idx + 1;
      }
    }
    hits[k - 1] = h;
  }
  return hits;
}

/**
 * Belady's MIN hits for every size in one pass, with Mattson's OPT stack: the loaded entry
 * goes to the top, and down to its old place each position keeps, of the entry it holds and
 * the one carried from above, the one loaded again sooner, and carries the other on. A
 * cache of k entries holds the top k (the inclusion property), so a load at depth d hits
 * every cache larger than d. Entries never move up, so a stack cut at MAX_CACHE is exact.
 */
export function optHits(loads: Int32Array, maxSize = MAX_CACHE): HitsBySize {
  const n = loads.length;
  let spaces = 0;
  for (let i = 0; i < n; i++) if (loads[i]! + 1 > spaces) spaces = loads[i]! + 1;
  // next[x]: when x is loaded next (n + i when never: each never distinct, after every use).
  const nextUse = new Float64Array(n);
  const last = new Float64Array(spaces).fill(-1);
  for (let i = n - 1; i >= 0; i--) {
    const x = loads[i]!;
    nextUse[i] = last[x]! >= 0 ? last[x]! : n + i;
    last[x] = i;
  }
  const next = new Float64Array(spaces);
  const stack = new Int32Array(maxSize);
  let depth = 0;
  const atDepth = new Float64Array(maxSize);
  for (let i = 0; i < n; i++) {
    const x = loads[i]!;
    let p = 0;
    while (p < depth && stack[p] !== x) p++;
    if (p < depth) atDepth[p]!++;
    next[x] = nextUse[i]!;
    if (depth === 0) {
      stack[0] = x;
      depth = 1;
      continue;
    }
    let carry = stack[0]!;
    stack[0] = x;
    if (p === 0) continue;
    const end = p < depth ? p : depth;
    for (let j = 1; j < end; j++) {
      const z = stack[j]!;
      if (next[carry]! < next[z]!) {
        stack[j] = carry;
        carry = z;
      }
    }
    if (p < depth) stack[p] = carry;
    else if (depth < maxSize) stack[depth++] = carry;
  }
  return hitsFromDepths(atDepth);
}
