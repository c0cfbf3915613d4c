/**
 * The host side of the paravirtual cr3 cache (the 2007 patch's changes to mmu.c's
 * mmu_alloc_roots / mmu_free_roots and vmx.c): after a missed cr3 load exits, the new
 * roots are entered in para_state at cr3_cache_idx and stay pinned while cached (the four
 * PAE directories of a 32-bit guest's cr3, behind a pae_root page of the entry's own: the
 * -rt tree's `pae_root[KVM_CR3_CACHE_SIZE]`), the evicted entry's roots are unpinned, and
 * the VMCS's CR3-target list is kept equal to the cached host roots, so that a later guest
 * mov to cr3 of one of them does not exit. An entry is named by its quadrant-0 page. Each
 * entry written costs pvCacheFill.
 */
import type { Costs } from '../../../../shared/costs.js';
import type { ShadowPages } from './pages.js';
import type { ShadowVcpu } from './shadow-vcpu.js';
import { LEVEL_PD } from './spte.js';

/** The roots of the set named by its quadrant-0 page `root` (pinned pages stay hashed) into `out`, in quadrant order; returns how many. */
function rootSet(pages: ShadowPages, root: number, out: Int32Array): number {
  const gfn = pages.gfn[root]!;
  let n = 0;
  for (let q = 0; q < 4; q++) {
    const sp = q === 0 ? root : pages.find(gfn, LEVEL_PD, q);
    if (sp >= 0) out[n++] = sp;
  }
  return n;
}

export class Cr3CacheHost {
  /** rootSet's answer (no closure or array made per cr3 load). */
  private readonly set = new Int32Array(4);

  constructor(private readonly c: Costs) {}

  /** A missed cr3 load of `pdFrame` got the roots `roots`: cache them. Returns the handler cycles. */
  fill(s: ShadowVcpu, pdFrame: number, roots: Int32Array): number {
    const para = s.para!;
    const pages = s.pages;
    const root = roots[0]!;
    const evicted = para.fill(pdFrame, root);
    for (let q = 0; q < 4; q++) pages.pinForCache(roots[q]!);
    if (evicted >= 0) for (let i = 0, n = rootSet(pages, evicted, this.set); i < n; i++) pages.unpinForCache(this.set[i]!);
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
    const pages = s.pages;
    for (let q = 0; q < 4; q++) if (s.roots[q]! >= 0) pages.unpin(s.roots[q]!);
    for (let i = 0, n = rootSet(pages, root, this.set); i < n; i++) {
      pages.pin(this.set[i]!);
      s.roots[i] = this.set[i]!;
    }
    v.cr3 = pdFrame;
  }

  /** Drop every entry of s's cache holding `root` (of s's shard), unpinning it; returns the cycles. */
  drop(s: ShadowVcpu, root: number): number {
    const n = s.para!.invalidateHost(root);
    if (n === 0) return 0;
    const pages = s.pages;
    for (let i = 0; i < n; i++) for (let j = 0, m = rootSet(pages, root, this.set); j < m; j++) pages.unpinForCache(this.set[j]!);
    s.v.vmx.setCr3Targets(s.para!.hostCr3);
    return n * this.c.pvCacheFill;
  }
}
