/**
 * A VM exit and the entry after it, as VT-x without VPID costs them: the hardware round
 * trip (VM exit + VM entry), KVM's common exit path (vmx_handle_exit and the entry
 * path of kvm_main.c), the handler's own cycles, the exit counted by its basic reason in
 * the VMCS-side counters, and (without VPID) the whole TLB gone, global entries
 * included. With the hypothetical tagged TLB (`exitFlush` false) the entry keeps the
 * TLB, and the handler says what it must still drop: everything when it changed shadow
 * entries (KVM's TLB flush request), the non-global entries when it loaded a new cr3.
 */
import type { Costs } from '../../../shared/costs.js';
import type { Vcpu } from '../../machine/vcpu.js';

/** What a handler must drop from the TLB when exit/entry itself keeps it. */
export const FLUSH_NONE = 0;
export const FLUSH_USER = 1;
export const FLUSH_ALL = 2;

export class VmExits {
  /** Cycles of one exit before its handler: hardware round trip + KVM's exit path. */
  private readonly base: number;

  constructor(
    c: Costs,
    /** VM exit/entry flushes the whole TLB (no VPID). */
    readonly exitFlush: boolean,
  ) {
    this.base = c.vmexitRoundTrip + c.kvmExitPath;
  }

  /** An IO_INSTRUCTION exit for `port` in direction `rw` (exit-times.ts PIO_IN/PIO_OUT), timed per port as perf's ioport event. */
  portExit(v: Vcpu, reason: number, port: number, rw: number, handler: number): void {
    this.exit(v, reason, handler);
    v.vmx.times.port(port, rw, this.base + handler);
  }

  /** An entry that does not follow an exit of its own (a halted vCPU woken): without VPID it flushes the TLB too. */
  entryFlush(v: Vcpu): void {
    if (this.exitFlush) {
      v.tlb.flushAll();
      v.walker?.flushGuest();
    }
  }

  /** One exit of basic reason `reason` whose handler took `handler` cycles. */
  exit(v: Vcpu, reason: number, handler: number, flush = FLUSH_NONE): void {
    const cycles = this.base + handler;
    v.clock += cycles;
    v.vmx.record(reason, cycles);
    // KVM's own flush request (kvm_mmu_flush_tlb, counted as tlb_flush), not the entry's.
    if (flush === FLUSH_ALL) v.vmx.times.tlbFlush++;
    if (this.exitFlush || flush === FLUSH_ALL) {
      v.tlb.flushAll();
      v.walker?.flushGuest();
    } else if (flush === FLUSH_USER) v.tlb.flushNonGlobal();
  }
}
