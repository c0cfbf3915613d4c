/**
 * A vCPU's timed events: what will interrupt it next, and when (in its cycles). Each
 * source (the local APIC's reschedule IPI and timer, the PIT, a disk's completion)
 * registers one slot, holding the cycle it is next due at (Infinity: nothing pending).
 * The vCPU takes every due event between two guest operations, in slot order, and sits
 * in HLT until the earliest one.
 *
 * Slot order is by priority and then registration: the reschedule IPI first, device
 * interrupts next, the timer tick last. (x86 would take IRQ0's vector before IRQ14's;
 * the two differ only when both fall due within one guest operation.)
 */

/** Priorities of event sources (lower is taken first). */
export const PRIO_IPI = 0;
export const PRIO_DEVICE = 1;
export const PRIO_TIMER = 2;

/** What an event's vCPU is to it: the clock it is due by, and whether it sits in HLT (machine/vcpu.ts). */
export interface Clocked {
  readonly clock: number;
  readonly halted: boolean;
}

/**
 * An event source: what a due event does; `wasHalted` is true while the vCPU still sits in
 * HLT: for every event until one wakes it (an interrupt taken). An event only the host sees
 * (QEMU's alarm) or a line the PIC masks leaves it halted. A source is an object of a class
 * (a device, the APIC), not a closure made per VM: the code compiled for one VM's events
 * then serves the next VM's in the same thread.
 */
export interface EventSource<V extends Clocked> {
  fire(v: V, wasHalted: boolean): void;
}

const MAX_SLOTS = 8;

export class TimedEvents<V extends Clocked> {
  /** Due cycle of each slot, Infinity if nothing is pending. */
  readonly at = new Float64Array(MAX_SLOTS).fill(Infinity);
  private readonly handlers: EventSource<V>[] = [];
  private readonly slots: EventSlot[] = [];
  count = 0;

  /** Add a source; returns its slot. Slots of lower priority numbers come first; later ones move up. */
  register(name: string, prio: number, source: EventSource<V>): EventSlot {
    if (this.count === MAX_SLOTS) throw new Error(`more than ${MAX_SLOTS} event sources on one vCPU`);
    let i = this.count;
    while (i > 0 && this.slots[i - 1]!.prio > prio) i--;
    const slot = new EventSlot(this, name, prio, i);
    this.handlers.splice(i, 0, source);
    this.slots.splice(i, 0, slot);
    for (let s = this.count; s > i; s--) {
      this.at[s] = this.at[s - 1]!;
      this.slots[s]!.i = s;
    }
    this.at[i] = Infinity;
    this.count++;
    return slot;
  }

  /** The sources, in the order they are taken. */
  get sources(): readonly string[] {
    return this.slots.map((s) => s.name);
  }

  /** The earliest due cycle. */
  next(): number {
    let m = Infinity;
    for (let s = 0; s < this.count; s++) if (this.at[s]! < m) m = this.at[s]!;
    return m;
  }

  /** Take every event due by the vCPU's clock, in slot order (each handler may advance the clock). */
  fireDue(v: V, wasHalted: boolean): void {
    let halted = wasHalted;
    for (let s = 0; s < this.count; s++) {
      if (this.at[s]! > v.clock) continue;
      this.at[s] = Infinity;
      this.handlers[s]!.fire(v, halted);
      halted = halted && v.halted;
    }
  }
}

/** One source's handle on its slot. */
export class EventSlot {
  constructor(
    private readonly events: { readonly at: Float64Array },
    readonly name: string,
    readonly prio: number,
    /** The slot's index (moves up when an earlier-priority source registers after it). */
    public i: number,
  ) {}

  /** Due at `cycle` (replacing what was pending). */
  set(cycle: number): void {
    this.events.at[this.i] = cycle;
  }

  /** Due at `cycle` unless this source is due earlier already. */
  post(cycle: number): void {
    if (cycle < this.events.at[this.i]!) this.events.at[this.i] = cycle;
  }

  /** The cycle this source is due at (Infinity: not pending). */
  get at(): number {
    return this.events.at[this.i]!;
  }
}
