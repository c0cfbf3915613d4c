/**
 * One virtual CPU as hardware: its clock, whether it sits in HLT, its cr3, its TLB, its
 * VMX state (the VMCS's exit counters and CR3-target list) and its timed events. A vCPU
 * is a discrete-event simulation of its own: `clock` advances by the cost of every guest
 * operation, TLB miss, exit and halt. What runs on it (the guest's per-CPU state) and
 * what the hypervisor keeps for it live in their own layers, indexed by `id`.
 */
import { newGroup, type TlbStats } from '../../shared/stats.js';
import { TimedEvents } from './events.js';
import { newTlb, type Tlb } from './tlb.js';
import { Vmx } from './vmx.js';
import type { PageWalker } from './walker.js';

/** Where an interrupt comes from, for the hypervisor's injection path: a device (the disk), another vCPU, the PIT (under QEMU, raised inside the host alarm's main-loop pass) or the local APIC's timer. */
export const FROM_DEVICE = 0;
export const FROM_IPI = 1;
export const FROM_TIMER = 2;
/** The local APIC's own timer (a device of the vCPU: under the 2007 modes taken as FROM_DEVICE). */
export const FROM_LAPIC_TIMER = 3;

/**
 * The vCPU takes interrupt `vector`: the hypervisor injects it (what that costs depends on
 * the mode and on where it came from), then the guest's IDT entry runs. Set up when the
 * VM is assembled (vm.ts); an object of a class, not a closure made per VM, so that the
 * code compiled for one VM's interrupts serves the next VM's in the same thread.
 */
export interface InterruptEntry {
  take(v: Vcpu, vector: number, from: number, wasHalted: boolean): void;
}

export class Vcpu {
  readonly id: number;
  /** Simulated time in cycles. */
  clock = 0;
  /** Cycles spent halted (HLT, the host CPU idle). */
  haltedCycles = 0;
  /** In HLT, waiting for an interrupt. */
  halted = false;
  /** Guest cr3 loaded: the page directory frame, -1 before the first load. */
  cr3 = -1;
  readonly tlb: Tlb;
  /** The page walker of a core of today (its paging-structure caches, its references counted), or null for the 2007 model's fixed-cost walk. */
  walker: PageWalker | null = null;
  readonly vmx: Vmx;
  /** What will interrupt this vCPU, and when. */
  readonly events = new TimedEvents<Vcpu>();
  /** Where its interrupts go (InterruptEntry), null until the VM is assembled. */
  entry: InterruptEntry | null = null;

  /** Interrupt `vector`, from `from` (FROM_*), arrives; `wasHalted`: the vCPU sat in HLT. */
  interrupt(v: Vcpu, vector: number, from: number, wasHalted: boolean): void {
    if (this.entry === null) throw new Error(`vCPU ${this.id} took an interrupt before the VM was assembled`);
    this.entry.take(v, vector, from, wasHalted);
  }

  /**
   * @param cr3Targets CR3-target values the VMCS offers (the cr3 cache's size in kvm-paravirt, else 0)
   */
  constructor(id: number, tlbEntries: number, tlbWays: number, cr3Targets: number, tlbStat: TlbStats = newGroup('tlb')) {
    this.id = id;
    this.tlb = newTlb(tlbEntries, tlbWays, tlbStat);
    this.vmx = new Vmx(cr3Targets);
  }

  /** Start the measured run: boot's cycles and exits are dropped; TLB contents stay warm. */
  resetClock(): void {
    this.clock = 0;
    this.haltedCycles = 0;
    this.vmx.resetExits();
  }
}
