/**
 * Messages between the vCPUs of one VM. Within a quantum each vCPU runs on its own;
 * whatever it does that another vCPU must see is appended here as a timestamped record
 * and delivered to every partition of the VM at the quantum's end, in one order for all:
 * (time, source vCPU, sequence number). This is the only way vCPUs affect each other,
 * whether they run in one worker thread or in several.
 *
 * A record is a run of float64: [type, payload length, time, source vCPU, seq, ...payload].
 */

/** A pipe write / read of `len` bytes: [channel, len]. */
export const M_PIPE_WRITE = 1;
export const M_PIPE_READ = 2;
/** A unix socket skb queued: [channel, len, slab slot, head page, data page]. */
export const M_UNIX_SEND = 3;
/** A unix socket skb consumed: [channel, len, slab slot]. */
export const M_UNIX_RECV = 4;
/** try_to_wake_up of a task on another vCPU: [pid]. */
export const M_WAKE = 5;
/** A child exited (a zombie for its parent, and __wake_up_parent): [parent pid]. */
export const M_CHILD_EXIT = 6;
/** An emulated guest page-table write: [frame, index, value, flooded]. */
export const M_PT_WRITE = 7;
/** A vCPU's shadow shard began (+1) or stopped (-1) shadowing a guest frame: [frame, delta]. */
export const M_SHADOWED = 8;
/** Drop the cr3-cache entries of the root shadowing page directory `frame` (unpin-on-write, pgd_free hypercall): [frame]. */
export const M_DROP_ROOT = 9;
/** A vCPU's run-queue length, for the load balancer: [vcpu, nr_running]. */
export const M_LOAD = 10;
/** A task moved to another vCPU's run queue by the load balancer: [pid, dest, ...task fields]. */
export const M_MIGRATE = 11;

export const HEADER = 5;

/** A growable buffer of records. */
export class MsgBuf {
  data: Float64Array;
  length = 0;
  constructor(capacity = 1 << 12) {
    this.data = new Float64Array(capacity);
  }

  clear(): void {
    this.length = 0;
  }

  /** Start a record with `n` payload words; returns where the payload goes. */
  begin(type: number, n: number, time: number, src: number, seq: number): number {
    const at = this.length;
    const need = at + HEADER + n;
    if (need > this.data.length) {
      let cap = this.data.length * 2;
      while (cap < need) cap *= 2;
      const d = new Float64Array(cap);
      d.set(this.data.subarray(0, at));
      this.data = d;
    }
    const d = this.data;
    d[at] = type;
    d[at + 1] = n;
    d[at + 2] = time;
    d[at + 3] = src;
    d[at + 4] = seq;
    this.length = need;
    return at + HEADER;
  }

  /** The records written, as a view (valid until the next write). */
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

/**
 * The records of several buffers in delivery order: (time, source vCPU, seq). Reuses its
 * arrays from one quantum to the next.
 */
export class Inbox {
  /** All records, concatenated. */
  data = new Float64Array(1 << 12);
  /** Offsets of the records in delivery order. */
  order = new Int32Array(256);
  count = 0;

  fill(parts: readonly Float64Array[]): void {
    let total = 0;
    for (const p of parts) total += p.length;
    if (total > this.data.length) this.data = new Float64Array(Math.max(total, this.data.length * 2));
    let at = 0;
    for (const p of parts) {
      this.data.set(p, at);
      at += p.length;
    }
    const d = this.data;
    let n = 0;
    for (let o = 0; o < total; o += HEADER + d[o + 1]!) n++;
    if (n > this.order.length) this.order = new Int32Array(Math.max(n, this.order.length * 2));
    const order = this.order;
    n = 0;
    for (let o = 0; o < total; o += HEADER + d[o + 1]!) order[n++] = o;
    this.count = n;
    // Insertion-friendly: each source's records are already in time order, so this sort is cheap.
    const idx = Array.from(order.subarray(0, n));
    idx.sort((a, b) => d[a + 2]! - d[b + 2]! || d[a + 3]! - d[b + 3]! || d[a + 4]! - d[b + 4]!);
    for (let i = 0; i < n; i++) order[i] = idx[i]!;
  }
}
