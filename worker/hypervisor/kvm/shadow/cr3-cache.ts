/**
 * The host side of the paravirtual cr3 cache (the 2007 patch's changes to mmu.c's
 * mmu_alloc_roots / mmu_free_roots and vmx.c): after a missed cr3 load exits, the new
 * root is entered in para_state at cr3_cache_idx and stays pinned while cached, the
 * evicted entry's root is unpinned, and the VMCS's CR3-target list is kept equal to the
 * cached host roots, so that a later guest mov to cr3 of one of them does not exit.
 * Each entry written costs pvCacheFill.
 */
import type { Costs } from '../../../../shared/costs.js';
import type { ShadowVcpu } from './shadow-vcpu.js';

export class Cr3CacheHost {
  constructor(private readonly c: Costs) {}

  /** A missed cr3 load of `pdFrame` got root `root`: cache it. Returns the handler cycles. */
  fill(s: ShadowVcpu, pdFrame: number, root: number): number {
    const para = s.para!;
    const pages = s.pages;
    const evicted = para.fill(pdFrame, root);
    pages.pinForCache(root);
    if (evicted >= 0) pages.unpinForCache(evicted);
    s.v.vmx.setCr3Targets(para.hostCr3);
    return this.c.pvCacheFill;
  }

  /**
   * A guest mov to cr3 of cache entry `idx`'s host_cr3: a CR3-target value, so no exit.
   * The CPU drops non-global TLB entries only. KVM learns of the switch from GUEST_CR3 at
   * the next exit; the root pin moves with it here.
   */
  load(s: ShadowVcpu, idx: number, pdFrame: number): void {
    const v = s.v;
    const root = s.para!.hostCr3[idx]!;
    if (!v.vmx.isCr3Target(root)) throw new Error(`host_cr3 ${root} of cache entry ${idx} is not a CR3-target value`);
    v.clock += this.c.movCr3Target;
    v.tlb.flushNonGlobal();
    if (s.rootHpa >= 0) s.pages.unpin(s.rootHpa);
    s.pages.pin(root);
    s.rootHpa = root;
    v.cr3 = pdFrame;
  }

  /** Drop every entry of s's cache holding `root` (of s's shard), unpinning it; returns the cycles. */
  drop(s: ShadowVcpu, root: number): number {
    const n = s.para!.invalidateHost(root);
    if (n === 0) return 0;
    const pages = s.pages;
    for (let i = 0; i < n; i++) pages.unpinForCache(root);
    s.v.vmx.setCr3Targets(s.para!.hostCr3);
    return n * this.c.pvCacheFill;
  }
}
