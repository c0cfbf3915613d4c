/**
 * The paravirtual cr3 cache of the 2007 KVM patch: a per-vCPU page `para_state`
 * registered by the guest, holding up to KVM_CR3_CACHE_SIZE entries
 * { guest_cr3, host_cr3 } and `max_idx`. The guest's write_cr3 searches it: a hit loads
 * host_cr3, which is in the VMX CR3-target list and so does not exit; a miss loads the
 * guest cr3, which exits, and the host fills the entry at the round-robin index
 * `cr3_cache_idx`, unpinning the shadow root of the entry it replaces.
 *
 * Here host_cr3 is the id of the pinned shadow root page.
 */
export class ParaState {
  readonly size: number;
  /** guest_cr3 of each entry, as a page-directory frame number, -1 = empty. */
  readonly guestCr3: Int32Array;
  /** host_cr3 of each entry: the pinned shadow root. */
  readonly hostCr3: Int32Array;
  /** max_idx: entries 0..maxIdx-1 have been filled at least once. */
  maxIdx = 0;
  /** cr3_cache_idx: where the next fill goes (wraps at cr3_cache_limit = size). */
  cr3CacheIdx = 0;

  lookups = 0;
  hits = 0;
  misses = 0;
  fills = 0;
  evictions = 0;

  constructor(size: number) {
    this.size = size;
    this.guestCr3 = new Int32Array(size).fill(-1);
    this.hostCr3 = new Int32Array(size).fill(-1);
  }

  /** Guest side: the index holding `guestCr3`, or -1 (counts the lookup). */
  lookup(guestCr3: number): number {
    this.lookups++;
    for (let i = 0; i < this.maxIdx; i++) {
      if (this.guestCr3[i] === guestCr3) {
        this.hits++;
        return i;
      }
    }
    this.misses++;
    return -1;
  }

  /**
   * Host side, on the exit of a missed cr3 load: store the entry at cr3CacheIdx and
   * advance it. Returns the host_cr3 of the entry replaced (to unpin), or -1.
   */
  fill(guestCr3: number, hostCr3: number): number {
    const idx = this.cr3CacheIdx;
    const evicted = this.hostCr3[idx]!;
    if (evicted >= 0) this.evictions++;
    this.guestCr3[idx] = guestCr3;
    this.hostCr3[idx] = hostCr3;
    this.fills++;
    if (idx + 1 > this.maxIdx) this.maxIdx = idx + 1;
    this.cr3CacheIdx = (idx + 1) % this.size;
    return evicted;
  }

  /** Drop every entry whose host root is `hostCr3`; returns how many (each held one pin). */
  invalidateHost(hostCr3: number): number {
    let n = 0;
    for (let i = 0; i < this.maxIdx; i++) {
      if (this.hostCr3[i] === hostCr3) {
        this.hostCr3[i] = -1;
        this.guestCr3[i] = -1;
        n++;
      }
    }
    return n;
  }
}
