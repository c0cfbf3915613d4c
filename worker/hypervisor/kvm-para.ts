/**
 * The paravirtual ABI of the 2007 KVM cr3-cache patch (its include/linux/kvm_para.h):
 * the per-vCPU page `struct kvm_vcpu_para_state` the guest registers with the host,
 * holding up to KVM_CR3_CACHE_SIZE entries { guest_cr3, host_cr3 } and `max_idx`. The
 * guest's write_cr3 searches it (guest/mm/mmu-context.ts): a hit loads host_cr3, which is
 * in the VMX CR3-target list and so does not exit; a miss loads the guest cr3, which
 * exits, and the host fills the entry at the round-robin index `cr3_cache_idx`,
 * unpinning the shadow root of the entry it replaces (hypervisor/kvm/shadow/cr3-cache.ts).
 *
 * Here host_cr3 is the id of the pinned shadow root page. Both sides count into the
 * vCPU's `cr3Cache` statistics: lookups, hits and misses (guest), fills and evictions (host).
 */
import { newGroup, type Cr3CacheStats } from '../../shared/stats.js';

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
  readonly stat: Cr3CacheStats;

  constructor(size: number, stat: Cr3CacheStats = newGroup('cr3Cache')) {
    this.size = size;
    this.guestCr3 = new Int32Array(size).fill(-1);
    this.hostCr3 = new Int32Array(size).fill(-1);
    this.stat = stat;
  }

  /** Guest side: the index holding `guestCr3`, or -1 (counts the lookup). */
  lookup(guestCr3: number): number {
    const s = this.stat;
    s.lookups++;
    for (let i = 0; i < this.maxIdx; i++) {
      if (this.guestCr3[i] === guestCr3) {
        s.hits++;
        return i;
      }
    }
    s.misses++;
    return -1;
  }

  /**
   * Host side, on the exit of a missed cr3 load: store the entry at cr3CacheIdx and
   * advance it. Returns the host_cr3 of the entry replaced (to unpin), or -1.
   */
  fill(guestCr3: number, hostCr3: number): number {
    const idx = this.cr3CacheIdx;
    const evicted = this.hostCr3[idx]!;
    if (evicted >= 0) this.stat.evictions++;
    this.guestCr3[idx] = guestCr3;
    this.hostCr3[idx] = hostCr3;
    this.stat.fills++;
    if (idx + 1 > this.maxIdx) this.maxIdx = idx + 1;
    this.cr3CacheIdx = (idx + 1) % this.size;
    return evicted;
  }

  /** Host side: drop every entry whose host root is `hostCr3`; returns how many (each held one pin). */
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
