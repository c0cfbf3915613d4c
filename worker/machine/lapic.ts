/**
 * A vCPU's local APIC, as far as the model uses it: interprocessor interrupts arriving
 * from other vCPUs (the sender names the vector and the cycle it arrives at; one IPI of a
 * vCPU is pending at a time, as an IRR bit is) and the APIC timer, periodic at the rate
 * and on the vector the guest programmed (setup_APIC_timer; LVTT). The APIC's registers
 * are not emulated and its EOI is not modelled.
 */
import { PRIO_IPI, PRIO_TIMER, type EventSlot } from './events.js';
import { FROM_IPI, FROM_LAPIC_TIMER, type Vcpu } from './vcpu.js';

/** The APIC's two event sources (EventSource): an IPI's arrival and the timer's tick. */
class IpiArrival {
  constructor(private readonly apic: LocalApic) {}
  fire(w: Vcpu, wasHalted: boolean): void {
    this.apic.takeIpi(w, wasHalted);
  }
}

class TimerTick {
  constructor(private readonly apic: LocalApic) {}
  fire(w: Vcpu, wasHalted: boolean): void {
    this.apic.tick(w, wasHalted);
  }
}

export class LocalApic {
  private readonly ipi: EventSlot;
  private ipiVector = -1;
  private timer: EventSlot | null = null;
  private timerVector = -1;
  private period = 0;
  private next = Infinity;
  /**
   * Cycles of the host alarm's grid when the APIC is QEMU's (its timer is a vm_clock timer
   * of QEMU's main loop: the guest sees its ticks on the alarm's grid, as the PIT's); 0 on
   * hardware.
   */
  grid = 0;

  constructor(private readonly v: Vcpu) {
    this.ipi = v.events.register('ipi', PRIO_IPI, new IpiArrival(this));
  }

  /** An IPI of `vector` reaches this vCPU at cycle `at` (the earliest one counts while one is pending). */
  receiveIpi(vector: number, at: number): void {
    this.ipiVector = vector;
    this.ipi.post(at);
  }

  /** LVTT: a periodic timer interrupt of `vector` every `cycles`. */
  programTimer(vector: number, cycles: number): void {
    this.timerVector = vector;
    this.period = cycles;
    this.timer ??= this.v.events.register('apic-timer', PRIO_TIMER, new TimerTick(this));
  }

  /** Start counting at cycle `now` (the first interrupt one period later). */
  start(now: number): void {
    if (this.timer === null) return;
    this.next = now + this.period;
    this.timer.set(this.seenAt(this.next));
  }

  /** When the guest sees the tick due at `cycle`. */
  private seenAt(cycle: number): number {
    const g = this.grid;
    return g === 0 ? cycle : Math.ceil(cycle / g) * g;
  }

  /** The pending IPI is taken (IpiArrival). */
  takeIpi(w: Vcpu, wasHalted: boolean): void {
    w.interrupt(w, this.ipiVector, FROM_IPI, wasHalted);
  }

  /** A tick of the timer (TimerTick): the interrupt, and the next tick on the grid. */
  tick(w: Vcpu, wasHalted: boolean): void {
    w.interrupt(w, this.timerVector, FROM_LAPIC_TIMER, wasHalted);
    do this.next += this.period;
    while (this.seenAt(this.next) <= w.clock);
    this.timer!.set(this.seenAt(this.next));
  }
}
