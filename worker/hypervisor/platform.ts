/**
 * What differs between the configurations, behind one seam (between the guest and what it
 * runs on): the MMU the guest's paging meets — how a TLB miss is resolved, what a cr3 load
 * or read costs, whether a page-table write traps — and the rest of the machine as the mode
 * presents it: what a port access costs, how an interrupt reaches the guest, what HLT does.
 * The guest kernel calls these; it never asks which mode it runs under, except for the
 * paravirt patch's own guest-side changes.
 *
 * Implementations: native.ts, qemu.ts, kvm/ (the VMX exit layer composed with an MMU
 * strategy: shadow paging of 2007 in kvm/shadow/); modes.ts builds the one a mode names.
 */
import type { Vcpu } from '../machine/vcpu.js';
import type { RecordBus } from '../smp/bus.js';
import type { ParaState } from './kvm-para.js';

/**
 * The MMU as the guest's paging meets it: the hardware's walk of the guest's tables
 * (native), QEMU's softmmu, or one of KVM's strategies (as mmu.c picks paging32/paging64
 * and, later, TDP handlers through function pointers per mode). A KVM strategy records
 * its exits through the exit layer's VmExits.
 */
export interface MmuStrategy {
  /** A guest access to `vpn` missed the TLB: resolve it (walk, shadow fault), charge it, fill the TLB. */
  tlbMiss(v: Vcpu, vpn: number, write: boolean): void;
  /**
   * A guest mov to cr3 of page directory `pdFrame` (that is not a CR3-target value), with
   * PCID `pcid` and the no-flush bit (bit 63) `noflush` (0 and false without PCID).
   */
  loadCr3(v: Vcpu, pdFrame: number, pcid: number, noflush: boolean): void;
  /** A guest mov to cr3 of the host_cr3 of cr3-cache entry `idx` (a CR3-target value: no exit; kvm-paravirt only). */
  loadCachedCr3(v: Vcpu, idx: number, pdFrame: number): void;
  /** A guest mov from cr3. */
  readCr3(v: Vcpu): void;
  /** A guest mov to cr4 that changes PGE: the whole TLB goes, global entries included. */
  writeCr4(v: Vcpu): void;
  /** The guest stored to entry `index` of its page-table frame `frame` (memory already updated). */
  ptWrite(v: Vcpu, frame: number, index: number): void;
  /** Would a guest store to `frame` trap (the frame is a write-protected, shadowed page table)? */
  isWriteProtected(v: Vcpu, frame: number): boolean;
  /** What ptWrite charges `v` for a store that does not trap (to a frame not write-protected): the same for every such store. */
  ptWriteCycles(v: Vcpu): number;
  /** invlpg of one page. */
  invlpg(v: Vcpu, vpn: number): void;
  /** The guest frees page directory `pdFrame` (pgd_free). */
  pgdFree(v: Vcpu, pdFrame: number): void;
  /** Translations the MMU holds for `v` that the guest's tables no longer give (0 without shadow paging). */
  staleTranslations(v: Vcpu): number;
  /** The paravirt guest registers its para_state page of vCPU `v` (at boot, free of cost). */
  registerParaState(v: Vcpu, para: ParaState): void;
  /** A multi-vCPU VM: what the MMU keeps per vCPU is kept coherent through the bus (after boot and set-up). */
  attachSmp(bus: RecordBus): void;
  /**
   * The guest touched `vpn`, whose PTE is not present (a fault the guest handles: a first
   * touch of fresh anonymous memory). What the hardware and the hypervisor do before the
   * guest's handler runs: natively and under EPT nothing; under shadow paging the shadow
   * fault, the exit and the injection of #PF. Only MMUs of guests that fault say so.
   */
  guestFault(v: Vcpu, vpn: number): void;
}

/**
 * The PV ops of a PVM guest (arch/x86/kernel/pvm.c of the 2024 RFC): write_cr3 as the
 * PVM_HC_LOAD_PGTBL hypercall (both page tables of the process, flush unless the no-flush
 * bit), the local and the global TLB flush as PVM_HC_TLB_FLUSH_CURRENT and PVM_HC_TLB_FLUSH,
 * and a user/kernel switch through the host's switcher.
 */
export interface PvmOps {
  loadPgtbl(v: Vcpu, pgd: number, userPgd: number, flush: boolean): void;
  flushCurrent(v: Vcpu): void;
  flushAll(v: Vcpu): void;
  /** The guest enters its kernel (`toUser` false) or returns to user mode. */
  switchMode(v: Vcpu, toUser: boolean): void;
}

export interface Platform {
  /** Multiplier on guest cycles (1, or QEMU's translation slowdown). */
  readonly guestFactor: number;
  /** The MMU the guest's paging meets. */
  readonly mmu: MmuStrategy;

  /** One guest in/out instruction to `port`; `rw` 1 for out, 0 for in (machine/exit-times.ts PIO_OUT, PIO_IN). */
  portIo(v: Vcpu, port: number, rw: number): void;
  /**
   * A device interrupt is delivered to this vCPU; `wasHalted` if it sat in HLT; `from` where
   * it comes from (machine/vcpu.ts FROM_*): under QEMU of 2007 the PIT's is raised inside
   * the host alarm's main-loop pass (the disk's completion kicks the vCPU out by itself).
   */
  irqArrival(v: Vcpu, wasHalted: boolean, from: number): void;
  /** QEMU's host alarm (qemu-alarm.ts) went off: the pass through its main loop; `wasHalted` if the vCPU sat in HLT. Not called natively. */
  hostAlarm(v: Vcpu, wasHalted: boolean): void;
  /** A reschedule IPI from another vCPU is delivered to `v`. */
  ipiArrival(v: Vcpu, wasHalted: boolean): void;
  /** The guest executes HLT (sti; hlt in the idle loop). */
  halt(v: Vcpu): void;
  /** The guest's EOI to its local APIC (xAPIC store of a 32-bit guest, x2APIC WRMSR of a 64-bit one; virtualised with APICv). */
  apicEoi(v: Vcpu): void;
  /** The guest sends an IPI: its writes of the local APIC's ICR (smp_send_reschedule). */
  sendIpi(v: Vcpu): void;
  /** An x86-64 guest re-arms its TSC-deadline timer (a WRMSR of IA32_TSC_DEADLINE). */
  armTimer(v: Vcpu): void;
  /** A PVM guest's PV ops (null for every other guest). */
  readonly pvm: PvmOps | null;
}

/**
 * The workloads map every page they touch before they run, so a guest page fault
 * (not-present guest PTE) means the model itself is wrong.
 */
export function guestPageFault(v: Vcpu, vpn: number): never {
  throw new Error(`guest page fault on vCPU ${v.id} at vpn 0x${vpn.toString(16)} with cr3 frame ${v.cr3}: page not mapped by the workload`);
}
