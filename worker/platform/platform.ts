/**
 * What differs between the five configurations, behind one interface: how a TLB miss
 * is resolved, what a cr3 load or read costs, whether a page-table write traps, what a
 * port access costs, how a timer interrupt reaches the guest and what HLT does.
 * The guest kernel calls these; it never asks which mode it runs under, except for the
 * paravirt patch's own guest-side changes.
 *
 * Later modes (EPT/NPT, VPID) are new implementations of this interface.
 */
import type { Vcpu } from '../vcpu.js';

export interface Platform {
  /** Multiplier on guest cycles (1, or QEMU's translation slowdown). */
  readonly guestFactor: number;
  /** TLB geometry this platform gives the guest (hardware TLB, or QEMU's soft TLB). */
  readonly tlbEntries: number;
  readonly tlbWays: number;

  /** A guest access to `vpn` missed the TLB: resolve it (walk, shadow fault), charge it, fill the TLB. */
  tlbMiss(v: Vcpu, vpn: number, write: boolean): void;
  /** A guest mov to cr3 of page directory `pdFrame`. */
  loadCr3(v: Vcpu, pdFrame: number): void;
  /** A guest mov to cr3 of the host_cr3 of cr3-cache entry `idx` (kvm-paravirt only). */
  loadCachedCr3(v: Vcpu, idx: number, pdFrame: number): void;
  /** A guest mov from cr3. */
  readCr3(v: Vcpu): void;
  /** The guest stored to entry `index` of its page-table frame `frame` (memory already updated). */
  ptWrite(v: Vcpu, frame: number, index: number): void;
  /** invlpg of one page. */
  invlpg(v: Vcpu, vpn: number): void;
  /** One guest in/out instruction to `port`. */
  portIo(v: Vcpu, port: number): void;
  /** A device interrupt (the timer, the disk) is raised for this vCPU; `wasHalted` if it sat in HLT. */
  irqArrival(v: Vcpu, wasHalted: boolean): void;
  /** The guest executes HLT (sti; hlt in the idle loop). */
  halt(v: Vcpu): void;
  /** A reschedule IPI arrives at `v` from another vCPU. */
  ipiArrival(v: Vcpu, wasHalted: boolean): void;
  /** Would a guest store to `frame` trap (the frame is a write-protected, shadowed page table)? */
  isWriteProtected(v: Vcpu, frame: number): boolean;
  /** The guest frees page directory `pdFrame` (pgd_free). */
  pgdFree(v: Vcpu, pdFrame: number): void;
  /** Shadow translations that disagree with the guest's tables (0 without shadow paging). */
  staleTranslations(v: Vcpu): number;
}
