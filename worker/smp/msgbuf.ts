/**
 * Buffers of cross-vCPU records, and their merge into delivery order. A record is a run
 * of float64: [type, payload length, time, source vCPU, seq, ...payload]; the delivery
 * order is (time, source vCPU, seq), the same in every replica of the VM. What each
 * record type carries is in records/, one module each.
 */

/** Words before a record's payload. */
export const HEADER = 5;

/** Records data[start, end): one vCPU's or one replica's, in delivery order. */
export interface Run {
  readonly data: Float64Array;
  readonly start: number;
  readonly end: number;
}

/** A growable buffer of records. */
export class MsgBuf implements Run {
  readonly start = 0;
  get end(): number {
    return this.length;
  }
  data: Float64Array;
  length = 0;
  constructor(capacity = 1 << 12) {
    this.data = new Float64Array(capacity);
  }

  clear(): void {
    this.length = 0;
  }

  /** Room for `words` words in all (what is written stays). */
  reserve(words: number): void {
    if (words <= this.data.length) return;
    let cap = this.data.length * 2;
    while (cap < words) cap *= 2;
    const d = new Float64Array(cap);
    d.set(this.data.subarray(0, this.length));
    this.data = d;
  }

  /** Start a record with `n` payload words; returns where the payload goes. */
  begin(type: number, n: number, time: number, src: number, seq: number): number {
    const at = this.length;
    const need = at + HEADER + n;
    if (need > this.data.length) this.reserve(need);
    const d = this.data;
    d[at] = type;
    d[at + 1] = n;
    d[at + 2] = time;
    d[at + 3] = src;
    d[at + 4] = seq;
    this.length = need;
    return at + HEADER;
  }
}

/** Is record a after record b in delivery order (time, source vCPU, seq)? */
function after(d: Float64Array, a: number, b: number): boolean {
  const ta = d[a + 2]!;
  const tb = d[b + 2]!;
  if (ta !== tb) return ta > tb;
  const sa = d[a + 3]!;
  const sb = d[b + 3]!;
  if (sa !== sb) return sa > sb;
  return d[a + 4]! > d[b + 4]!;
}

/**
 * Merge runs of records already in delivery order (runs[r]..ends[r] of `d`) into
 * `order` (record offsets), with a binary heap of the runs' heads. Returns the count.
 */
export function mergeRuns(d: Float64Array, starts: Int32Array, ends: Int32Array, nRuns: number, order: Int32Array, heap: Int32Array): number {
  const pos = starts;
  let n = 0;
  if (nRuns === 1) {
    for (let o = pos[0]!; o < ends[0]!; o += HEADER + d[o + 1]!) order[n++] = o;
    return n;
  }
  let h = 0;
  for (let r = 0; r < nRuns; r++) if (pos[r]! < ends[r]!) heap[h++] = r;
  for (let i = (h >> 1) - 1; i >= 0; i--) siftDown(d, pos, heap, h, i);
  while (h > 0) {
    const r = heap[0]!;
    const o = pos[r]!;
    order[n++] = o;
    const next = o + HEADER + d[o + 1]!;
    pos[r] = next;
    if (next >= ends[r]!) {
      heap[0] = heap[--h]!;
      if (h === 0) break;
    }
    siftDown(d, pos, heap, h, 0);
  }
  return n;
}

/** Restore the heap of runs (ordered by their head records) below slot i. */
function siftDown(d: Float64Array, pos: Int32Array, heap: Int32Array, h: number, i: number): void {
  for (;;) {
    const l = 2 * i + 1;
    if (l >= h) return;
    let m = l;
    if (l + 1 < h && after(d, pos[heap[l]!]!, pos[heap[l + 1]!]!)) m = l + 1;
    if (!after(d, pos[heap[i]!]!, pos[heap[m]!]!)) return;
    const t = heap[m]!;
    heap[m] = heap[i]!;
    heap[i] = t;
    i = m;
  }
}

/** Count the records of d[from, to). */
export function countRecords(d: Float64Array, from: number, to: number): number {
  let n = 0;
  for (let o = from; o < to; o += HEADER + d[o + 1]!) n++;
  return n;
}

/**
 * The records of several buffers, each already in delivery order, merged into one
 * delivery order. Reuses its arrays from one quantum to the next.
 */
export class Inbox {
  /** The records: copied into one array, or the exchange's shared array they are in. */
  data: Float64Array = new Float64Array(1 << 12);
  /** Offsets of the records in delivery order. */
  order = new Int32Array(256);
  count = 0;
  private starts = new Int32Array(8);
  private ends = new Int32Array(8);
  private heap = new Int32Array(8);

  fill(runs: readonly Run[]): void {
    if (runs.length > this.starts.length) {
      this.starts = new Int32Array(runs.length);
      this.ends = new Int32Array(runs.length);
      this.heap = new Int32Array(runs.length);
    }
    // Runs in one array (the exchange's shared memory) are read in place; others are copied.
    const first = runs[0]?.data;
    let shared = first !== undefined;
    for (const r of runs) if (r.data !== first) shared = false;
    let n = 0;
    if (shared) {
      this.data = first!;
      for (let r = 0; r < runs.length; r++) {
        this.starts[r] = runs[r]!.start;
        this.ends[r] = runs[r]!.end;
        n += countRecords(first!, runs[r]!.start, runs[r]!.end);
      }
    } else {
      let total = 0;
      for (const r of runs) total += r.end - r.start;
      if (total > this.own.length) this.own = new Float64Array(Math.max(total, this.own.length * 2));
      const d = (this.data = this.own);
      let at = 0;
      for (let r = 0; r < runs.length; r++) {
        const run = runs[r]!;
        const src = run.data;
        this.starts[r] = at;
        for (let i = run.start; i < run.end; i++) d[at++] = src[i]!;
        this.ends[r] = at;
      }
      n = countRecords(d, 0, total);
    }
    if (n > this.order.length) this.order = new Int32Array(Math.max(n, this.order.length * 2));
    this.count = mergeRuns(this.data, this.starts, this.ends, runs.length, this.order, this.heap);
  }

  /** This inbox's own array, for runs it copies. */
  private own: Float64Array = new Float64Array(1 << 12);

}
