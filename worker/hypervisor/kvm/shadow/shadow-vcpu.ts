/**
 * What KVM keeps per vCPU for shadow paging (struct kvm_vcpu's mmu fields): the shard of
 * shadow pages this vCPU builds in, the root it runs on (vcpu->mmu.root_hpa, here a
 * shadow page id), the write-flood detector (last_pt_write_gfn / _count) and, with the
 * paravirt patch, the guest's para_state page (vcpu->para_state).
 */
import type { Vcpu } from '../../../machine/vcpu.js';
import type { ParaState } from '../../kvm-para.js';
import type { ShadowPages } from './pages.js';

export class ShadowVcpu {
  /** root_hpa: the shadow root the hardware walks, -1 if none. */
  rootHpa = -1;
  lastPtWriteGfn = -1;
  lastPtWriteCount = 0;
  para: ParaState | null = null;

  /**
   * The write-flood ("fork") detector of kvm_mmu_pte_write: does this trapped write to
   * frame `gfn` flood it? The third write in a row to one frame does; a write to another
   * frame starts the count again (a shadow page fault resets it: shadow-mmu.ts).
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
