/**
 * The i8254 programmable interval timer's channel 0, as the PC wires it: it drives ISA
 * IRQ0 periodically, at the rate the guest programmed (setup_pit_timer: LATCH for HZ).
 * The ports (0x40-0x43) are decoded so that every access costs what the mode charges,
 * but the counter is not emulated: reads give 0, and the period is set directly by
 * `program` (the boot-time port writes are before the measured run, and LATCH's rounding
 * of the period is not modelled). Emulated by QEMU, an edge is seen only when QEMU's main
 * loop runs its timers: at the next host alarm at or after it (`grid`, cycles; 0 on
 * hardware); the edges keep their own schedule (QEMU re-arms the channel's timer from the
 * count, not from when it ran).
 */
import { PRIO_TIMER, type EventSlot } from '../events.js';
import type { IoBus, IoDevice, IsaLines } from '../io-bus.js';
import { FROM_TIMER, type Vcpu } from '../vcpu.js';

export const PIT_CH0 = 0x40;
export const PIT_MODE = 0x43;
export const PIT_IRQ = 0;

export class Pit implements IoDevice {
  /** Cycles between two IRQ0 edges (0 until programmed). */
  private period = 0;
  /** The next edge (kept apart from the event slot, which is cleared while the edge is taken). */
  private next = Infinity;
  private readonly slot: EventSlot;
  /** The host alarm's period when QEMU emulates the PIT (0: hardware). */
  grid = 0;

  /**
   * @param cpu the vCPU the PIC delivers to
   * @param lines the board's ISA lines: the PIT raises IRQ `PIT_IRQ` (through the PIC, to `cpu`)
   */
  constructor(
    bus: IoBus,
    cpu: Vcpu,
    private readonly lines: IsaLines,
  ) {
    bus.register(this, PIT_CH0, 4);
    this.slot = cpu.events.register('pit', PRIO_TIMER, this);
  }

  portRead(): number {
    return 0;
  }

  portWrite(): void {}

  /** Periodic mode, one edge every `cycles`. */
  program(cycles: number): void {
    this.period = cycles;
  }

  /** Start counting at cycle `now`: the first edge one period later. */
  start(now: number): void {
    if (this.period === 0) return;
    this.next = now + this.period;
    this.slot.set(this.seenAt(this.next));
  }

  /** When the guest sees the edge due at `cycle`. */
  private seenAt(cycle: number): number {
    const g = this.grid;
    return g === 0 ? cycle : Math.ceil(cycle / g) * g;
  }

  /** The slot's event (EventSource), the edge: IRQ0 is raised (and taken, if the PIC passes it on), then the next edge is due; edges the handler outlasted are lost. */
  fire(v: Vcpu, wasHalted: boolean): void {
    this.lines.raiseIsaIrq(PIT_IRQ, v, wasHalted, FROM_TIMER);
    do this.next += this.period;
    while (this.seenAt(this.next) <= v.clock);
    this.slot.set(this.seenAt(this.next));
  }
}
