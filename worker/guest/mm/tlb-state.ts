/**
 * An x86-64 guest's address-space switches and TLB flushes as Linux 4.14 and later make
 * them (arch/x86/mm/tlb.c, include/asm/tlbflush.h, entry/calling.h):
 *
 *  - each CPU keeps TLB_NR_DYN_ASIDS (6) ASID slots of (ctx_id, tlb_gen); switch_mm finds
 *    the next mm's slot (choose_new_asid) and loads its cr3 with the no-flush bit when the
 *    slot's entries are still current, else takes the next slot round robin (1, 2, ... 5,
 *    0) and flushes. Without PCID every switch flushes, with PCID 0. The kernel PCID of
 *    ASID a is a + 1; the user PCID, with page-table isolation, that | 2048 (bit 11);
 *  - with page-table isolation every entry from user mode loads the kernel PML4 (always
 *    no-flush with PCID: SWITCH_TO_KERNEL_CR3) and every return loads the user PML4,
 *    no-flush unless the ASID's bit in user_pcid_flush_mask asks for one flush
 *    (SWITCH_TO_USER_CR3; invalidate_user_asid sets it); without PCID both flush;
 *  - flush_tlb_mm_range of the loaded mm (exit_mmap's flush) bumps its tlb_gen and flushes
 *    locally: flush_tlb_local, invalidate_user_asid and a rewrite of cr3 without the
 *    no-flush bit.
 *
 * Under PVM the guest's write_cr3 and its local flush are hypercalls and its user/kernel
 * switches go through the host's switcher (hypervisor/kvm/mmu/pvm.ts): the PV ops chosen
 * once, when the kernel is built.
 */
import type { Costs } from '../../../shared/costs.js';
import type { AsidStats } from '../../../shared/stats.js';
import type { PvmOps } from '../../hypervisor/platform.js';
import type { GuestCpu } from '../cpu.js';
import type { Mm } from '../task.js';
import type { MmSwitch } from './mmu-context.js';

/** TLB_NR_DYN_ASIDS. */
export const TLB_NR_DYN_ASIDS = 6;
/** X86_CR3_PTI_PCID_USER_BIT: the user PCID of a kernel PCID. */
export const PTI_USER_PCID = 2048;

/** struct tlb_state of one CPU (cpu_tlbstate). */
class CpuTlbState {
  /** ctxs[asid].ctx_id (0: none) and .tlb_gen. */
  readonly ctxId = new Float64Array(TLB_NR_DYN_ASIDS);
  readonly tlbGen = new Float64Array(TLB_NR_DYN_ASIDS);
  loadedAsid = 0;
  /** next_asid: 1 after boot, the boot mm in slot 0. */
  nextAsid = 1;
  /** user_pcid_flush_mask: a bit per ASID whose user PCID the next return to user flushes. */
  userFlushMask = 0;
}

export class TlbContext implements MmSwitch {
  private readonly state: CpuTlbState[];
  private nextCtxId = 1;

  constructor(
    private readonly c: Costs,
    cpus: number,
    private readonly stats: readonly AsidStats[],
    /** The guest uses PCID. */
    private readonly pcid: boolean,
    /** Page-table isolation. */
    private readonly pti: boolean,
    /** PVM's PV ops, or null. */
    private readonly pvm: PvmOps | null,
  ) {
    this.state = Array.from({ length: cpus }, () => new CpuTlbState());
  }

  /** mm_init's init_new_context: a ctx_id of its own. */
  initContext(mm: Mm): void {
    mm.ctxId = this.nextCtxId++;
    mm.tlbGen = 1;
  }

  /** The boot CPU loads init_mm in ASID 0. */
  boot(cpu: GuestCpu, mm: Mm): void {
    const st = this.state[cpu.id]!;
    st.ctxId[0] = mm.ctxId;
    st.tlbGen[0] = mm.tlbGen;
    this.writeCr3(cpu, mm, mm.pdFrame, this.kernPcid(0), false);
  }

  private kernPcid(asid: number): number {
    return this.pcid ? asid + 1 : 0;
  }

  /** switch_mm_irqs_off to another mm. */
  switchMm(cpu: GuestCpu, next: Mm): void {
    cpu.work(this.c.switchMm);
    cpu.stat.addressSpaceSwitches++;
    const st = this.state[cpu.id]!;
    let asid = -1;
    let flush = true;
    if (this.pcid) {
      for (let a = 0; a < TLB_NR_DYN_ASIDS; a++) {
        if (st.ctxId[a] !== next.ctxId) continue;
        asid = a;
        flush = st.tlbGen[a]! < next.tlbGen;
        break;
      }
      if (asid < 0) {
        asid = st.nextAsid++;
        if (asid >= TLB_NR_DYN_ASIDS) {
          asid = 0;
          st.nextAsid = 1;
        }
      }
    } else asid = 0;
    if (flush) {
      st.ctxId[asid] = next.ctxId;
      st.tlbGen[asid] = next.tlbGen;
      this.invalidateUserAsid(st, asid);
      if (this.pcid) this.stats[cpu.id]!.newAsids++;
    }
    st.loadedAsid = asid;
    cpu.activeMm = next;
    this.writeCr3(cpu, next, next.pdFrame, this.kernPcid(asid), !flush);
  }

  /** invalidate_user_asid: with PTI and PCID, the next return to user flushes the user PCID. */
  private invalidateUserAsid(st: CpuTlbState, asid: number): void {
    if (this.pti && this.pcid) st.userFlushMask |= 1 << asid;
  }

  /** write_cr3 of PML4 `frame` (with `pcid` and the no-flush bit), or PVM's load-page-table hypercall. */
  private writeCr3(cpu: GuestCpu, mm: Mm, frame: number, pcid: number, noflush: boolean): void {
    const s = this.stats[cpu.id]!;
    s.cr3Writes++;
    if (noflush) s.noFlush++;
    if (this.pvm !== null) this.pvm.loadPgtbl(cpu.vcpu, frame, mm.userPgd >= 0 ? mm.userPgd : frame, !noflush);
    else cpu.mmu.loadCr3(cpu.vcpu, frame, pcid, noflush);
  }

  /** flush_tlb_mm_range(mm, 0, TLB_FLUSH_ALL) of the loaded mm: a new tlb_gen, and flush_tlb_local. */
  flushTlbLocal(cpu: GuestCpu): void {
    const mm = cpu.activeMm!;
    const st = this.state[cpu.id]!;
    mm.tlbGen++;
    st.tlbGen[st.loadedAsid] = mm.tlbGen;
    this.invalidateUserAsid(st, st.loadedAsid);
    if (this.pvm !== null) {
      // pv_ops.mmu.flush_tlb_user: PVM_HC_TLB_FLUSH_CURRENT.
      this.pvm.flushCurrent(cpu.vcpu);
      return;
    }
    // native_flush_tlb_local: native_write_cr3(__native_read_cr3()) (the kernel PML4: in the kernel).
    this.writeCr3(cpu, mm, mm.pdFrame, this.kernPcid(st.loadedAsid), false);
  }

  /** __flush_tlb_all's global flush: CR4.PGE off and on (the extra flush of the 2007 ablation, for comparison). */
  flushTlbGlobal(cpu: GuestCpu): void {
    if (this.pvm !== null) {
      this.pvm.flushAll(cpu.vcpu);
      return;
    }
    cpu.mmu.writeCr4(cpu.vcpu);
    cpu.mmu.writeCr4(cpu.vcpu);
  }

  /** An entry from user mode: SWITCH_TO_KERNEL_CR3 with PTI; under PVM the switcher's. */
  enterKernel(cpu: GuestCpu): void {
    if (this.pvm !== null) {
      this.pvm.switchMode(cpu.vcpu, false);
      return;
    }
    if (!this.pti) return;
    const mm = cpu.activeMm!;
    const asid = this.state[cpu.id]!.loadedAsid;
    this.stats[cpu.id]!.ptiSwitches++;
    this.writeCr3(cpu, mm, mm.pdFrame, this.kernPcid(asid), this.pcid);
  }

  /** A return to user mode: SWITCH_TO_USER_CR3 with PTI; under PVM the switcher's. */
  exitToUser(cpu: GuestCpu): void {
    if (this.pvm !== null) {
      this.pvm.switchMode(cpu.vcpu, true);
      return;
    }
    if (!this.pti) return;
    const mm = cpu.activeMm!;
    const st = this.state[cpu.id]!;
    const asid = st.loadedAsid;
    let noflush = false;
    if (this.pcid) {
      const bit = 1 << asid;
      noflush = (st.userFlushMask & bit) === 0;
      st.userFlushMask &= ~bit;
    }
    this.stats[cpu.id]!.ptiSwitches++;
    this.writeCr3(cpu, mm, mm.userPgd, this.pcid ? this.kernPcid(asid) | PTI_USER_PCID : 0, noflush);
  }

  /** Does the guest switch anything at a user/kernel boundary (PTI or PVM)? */
  get switchesAtEntry(): boolean {
    return this.pti || this.pvm !== null;
  }
}
