/**
 * What KVM keeps per vCPU for shadow paging (struct kvm_vcpu's mmu fields): the shard of
 * shadow pages this vCPU builds in, the roots it runs on (vcpu->mmu.pae_root[0..3]: the
 * four PAE directories of the guest's cr3, shadow page ids; `rootHpa`, the first, names
 * the set, as a CR3-target value does), the write-flood detector (last_pt_write_gfn /
 * _count) and, with the paravirt patch, the guest's para_state page (vcpu->para_state).
 */
import type { Vcpu } from '../../../machine/vcpu.js';
import type { ParaState } from '../../kvm-para.js';
import type { ShadowPages } from './pages.js';

export class ShadowVcpu {
  /** pae_root[0..3]: the shadow roots the hardware walks, one per 1 GiB quadrant (-1 if none). */
  readonly roots = new Int32Array(4).fill(-1);

  /** The root set's name: its quadrant-0 page (-1 if none). */
  get rootHpa(): number {
    return this.roots[0]!;
  }
  lastPtWriteGfn = -1;
  lastPtWriteCount = 0;
  para: ParaState | null = null;

  /**
   * The write-flood ("fork") detector of kvm_mmu_pre_write: does this trapped write to
   * frame `gfn` flood it? The third emulated write in a row to one frame does; only an
   * emulated write to another frame starts the count again (at 2.6.20 a page fault does
   * not: that came with a25f7e1f8c1f, "KVM: Reduce misfirings of the fork detector").
   */
  floods(gfn: number): boolean {
    if (gfn === this.lastPtWriteGfn) return ++this.lastPtWriteCount >= 3;
    this.lastPtWriteGfn = gfn;
    this.lastPtWriteCount = 1;
    return false;
  }

  constructor(
    readonly v: Vcpu,
    /** Replaced by an empty shard when another replica takes the vCPU over (coherence.ts). */
    public pages: ShadowPages,
  ) {}
}
