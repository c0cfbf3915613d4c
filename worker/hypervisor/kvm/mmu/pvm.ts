/**
 * PVM's host side (the RFC "KVM: x86/PVM: Introduce a new hypervisor", Lai Jiangshan,
 * <20240226143630.33643-1-jiangshanlai@gmail.com>): a guest kernel that runs deprivileged
 * on KVM's shadow MMU of today (shadow-mmu.ts, its previous roots unchanged) and asks for
 * what a mov to cr3 or a TLB flush would do by hypercall:
 *  - PVM_HC_LOAD_PGTBL(flags, pgd, user_pgd) (handle_hc_load_pagetables, patch 39):
 *    kvm_mmu_new_pgd(pgd), the user pgd kept in MSR_PVM_SWITCH_CR3 for the return to
 *    user mode, and with the flush flag the current kernel and user roots synced and their
 *    TLB tags flushed;
 *  - PVM_HC_TLB_FLUSH_CURRENT and PVM_HC_TLB_FLUSH: the same for the current pair, and
 *    for every root;
 *  - a user/kernel switch (a guest syscall, ERETU) goes through the switcher: without the
 *    hypervisor ("direct switching", patch 04/43) when the other mode's root is the
 *    current one or prev_roots[0] (check_switch_cr3), else an exit in which the hypervisor
 *    switches to it (switch_to_smod/umod: kvm_mmu_new_pgd, no TLB flush per the spec).
 * The TLB is tagged per root by host PCIDs (shadow-mmu.ts HostPcids), so nothing is
 * flushed at exits. PVM's exits are reported under the VMX reason of the same work:
 * hypercalls as VMCALL, a switcher exit that loads the other mode's root as CR_ACCESS.
 */
import type { Costs } from '../../../../shared/costs.js';
import { EXIT_REASON } from '../../../../shared/exits.js';
import type { Vcpu } from '../../../machine/vcpu.js';
import type { PvmOps } from '../../platform.js';
import type { VmExits } from '../vmexit.js';
import { rootKey } from './roots.js';
import type { PrevRootsMmu, RootsVcpu } from './shadow-mmu.js';

const { CR_ACCESS, VMCALL } = EXIT_REASON;

/** What PVM keeps per vCPU beside KVM's roots: the two page tables of the running process and the mode. */
class PvmVcpu {
  kernelPgd = -1;
  userPgd = -1;
  pcid = 0;
  userMode = false;
}

export class Pvm implements PvmOps {
  private readonly cpus = new Map<number, PvmVcpu>();

  constructor(
    private readonly mmu: PrevRootsMmu,
    private readonly exits: VmExits,
    private readonly c: Costs,
  ) {}

  private of(v: Vcpu): PvmVcpu {
    let p = this.cpus.get(v.id);
    if (p === undefined) this.cpus.set(v.id, (p = new PvmVcpu()));
    return p;
  }

  loadPgtbl(v: Vcpu, pgd: number, userPgd: number, flush: boolean): void {
    const s = this.mmu.state(v);
    const p = this.of(v);
    let handler = this.c.pvHypercall;
    p.kernelPgd = pgd;
    p.userPgd = userPgd;
    p.pcid = s.pcid;
    p.userMode = false;
    if (rootKey(pgd, p.pcid) !== s.roots.key || s.roots.sp < 0) handler += this.mmu.newPgd(s, pgd, p.pcid);
    if (flush) handler += this.flushPair(s, p);
    this.exits.exit(v, VMCALL, handler);
  }

  /** pvm_flush_tlb_guest_current_kernel_user: the current kernel and user roots synced, their tags flushed. */
  private flushPair(s: RootsVcpu, p: PvmVcpu): number {
    let cycles = 0;
    if (s.roots.sp >= 0) cycles += this.mmu.syncRoot(s, s.roots.sp) + this.mmu.flushCurrent(s);
    const userKey = rootKey(p.userPgd, p.pcid);
    if (p.userPgd !== p.kernelPgd && s.roots.n > 0 && s.roots.prevKey[0] === userKey && s.roots.prevSp[0]! >= 0) {
      cycles += this.mmu.syncRoot(s, s.roots.prevSp[0]!);
    }
    return cycles;
  }

  flushCurrent(v: Vcpu): void {
    const s = this.mmu.state(v);
    this.exits.exit(v, VMCALL, this.c.pvHypercall + this.flushPair(s, this.of(v)));
  }

  /** PVM_HC_TLB_FLUSH: every root synced, the whole TLB flushed. */
  flushAll(v: Vcpu): void {
    const s = this.mmu.state(v);
    let handler = this.c.pvHypercall;
    for (const sp of s.roots.all()) handler += this.mmu.syncRoot(s, sp);
    s.stat.tlbFlushes++;
    v.vmx.times.tlbFlush++;
    v.tlb.flushAll();
    v.walker!.flushGuest();
    this.exits.exit(v, VMCALL, handler + this.c.vpidFlush);
  }

  switchMode(v: Vcpu, toUser: boolean): void {
    const s = this.mmu.state(v);
    const p = this.of(v);
    if (p.kernelPgd < 0) {
      // Before the guest's first LOAD_PGTBL (boot): the switcher keeps the current root.
      v.clock += this.c.pvmDirectSwitch;
      return;
    }
    p.userMode = toUser;
    const target = toUser ? p.userPgd : p.kernelPgd;
    const key = rootKey(target, p.pcid);
    if (key === s.roots.key && s.roots.sp >= 0) {
      // The same page table in both modes: nothing to switch.
      v.clock += this.c.pvmDirectSwitch;
      s.stat.directSwitches++;
      return;
    }
    const r = s.roots;
    if (r.n > 0 && r.prevKey[0] === key && r.prevSp[0]! >= 0 && this.mmu.pages.invalid[r.prevSp[0]!] === 0 && r.sp >= 0) {
      // Direct switching: the switcher loads the prepared cr3, and KVM's roots trade places after the run.
      r.swapWithFirst();
      v.cr3 = target;
      this.mmu.rootChanged(s);
      v.clock += this.c.pvmDirectSwitch;
      s.stat.directSwitches++;
      return;
    }
    s.loaded = false;
    this.exits.exit(v, CR_ACCESS, this.mmu.newPgd(s, target, p.pcid));
  }
}
