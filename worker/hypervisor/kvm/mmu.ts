/**
 * KVM's MMU as a strategy of the VMX exit layer (as mmu.c picks paging32/paging64 and,
 * later, TDP handlers through function pointers per mode): everything about guest
 * paging that depends on how the host virtualises it. The shadow MMU of early 2007
 * (shadow/) is one implementation; a two-dimensional-paging MMU (EPT/NPT: no exit on a
 * cr3 load, invlpg or page-table write; a two-level walk on a TLB miss) is another, with
 * no change to the exit layer. A strategy records its exits through the exit layer's
 * VmExits.
 */
import type { Vcpu } from '../../machine/vcpu.js';
import type { RecordBus } from '../../smp/bus.js';
import type { ParaState } from '../kvm-para.js';

export interface MmuStrategy {
  /** A guest access missed the TLB: walk the host's tables, fault if they lack the translation, fill the TLB. */
  tlbMiss(v: Vcpu, vpn: number, write: boolean): void;
  /** A guest mov to cr3 (that is not a CR3-target value). */
  loadCr3(v: Vcpu, pdFrame: number): void;
  /** A guest mov to cr3 of cr3-cache entry `idx`'s host_cr3 (a CR3-target value: no exit). */
  loadCachedCr3(v: Vcpu, idx: number, pdFrame: number): void;
  /** A guest mov from cr3. */
  readCr3(v: Vcpu): void;
  /** A guest mov to cr4 that changes PGE (a paging mode bit KVM tracks). */
  writeCr4(v: Vcpu): void;
  /** The guest stored to entry `index` of page-table frame `frame` (memory already updated). */
  ptWrite(v: Vcpu, frame: number, index: number): void;
  /** Would a guest store to `frame` trap? */
  isWriteProtected(v: Vcpu, frame: number): boolean;
  /** A guest invlpg. */
  invlpg(v: Vcpu, vpn: number): void;
  /** The guest frees page directory `pdFrame`. */
  pgdFree(v: Vcpu, pdFrame: number): void;
  /** Translations the host holds for `v` that the guest's tables no longer give (the audit). */
  staleTranslations(v: Vcpu): number;
  /** The guest's para_state page of vCPU `v`. */
  registerParaState(v: Vcpu, para: ParaState): void;
  /** Keep the per-vCPU parts coherent through the records of a multi-vCPU VM. */
  attachSmp(bus: RecordBus): void;
}
