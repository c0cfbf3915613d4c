/**
 * Interrupt handling in the guest (arch/i386/kernel/irq.c and entry.S): the IDT, whose
 * entries the drivers and the timer claim at boot (request_irq / setup_irq, and the SMP
 * vectors: the reschedule IPI is claimed here), the entry and exit path every interrupt takes (common_interrupt ... irq_exit),
 * and the i8259A's part of handle_level_irq: mask_and_ack_8259A (or the paravirt ack)
 * before the handler, the unmask after it.
 */
import type { Costs } from '../../../shared/costs.js';
import type { GuestCpu } from '../cpu.js';
import type { PortIo } from '../io.js';
import { KTEXT } from '../layout.js';
import { Linux8259Driver } from './i8259.js';
import { isaVector, RESCHEDULE_VECTOR } from './vectors.js';

export type IrqHandler = (cpu: GuestCpu) => void;

export class Irq {
  readonly pic = new Linux8259Driver();
  /** Handler of each vector (the IDT's interrupt gates), undefined where none is claimed. */
  private readonly idt: (IrqHandler | undefined)[] = new Array<IrqHandler | undefined>(256);

  constructor(
    private readonly c: Costs,
    /** The paravirt patch's simplified ack. */
    private readonly paravirt: boolean,
  ) {
    // smp_reschedule_interrupt (arch/i386/kernel/smp.c): the entry path, then schedule() on the way out.
    this.setVector(RESCHEDULE_VECTOR, (cpu) => {
      this.entry(cpu);
      cpu.needResched = true;
    });
  }

  /** Claim `vector` for `handler` (set_intr_gate). */
  setVector(vector: number, handler: IrqHandler): void {
    if (this.idt[vector] !== undefined) throw new Error(`interrupt vector 0x${vector.toString(16)} claimed twice`);
    this.idt[vector] = handler;
  }

  /** request_irq of an ISA line: its vector's handler, and the line unmasked at the i8259A (through `io`, at boot). */
  requestIsaIrq(io: PortIo, irq: number, handler: IrqHandler): void {
    this.setVector(isaVector(irq), handler);
    this.pic.enableIrq(io, irq);
  }

  /** The CPU takes interrupt `vector`. */
  dispatch(cpu: GuestCpu, vector: number): void {
    const h = this.idt[vector];
    if (h === undefined) throw new Error(`interrupt on vector 0x${vector.toString(16)}, which no handler claims`);
    h(cpu);
  }

  /** An interrupt taken in user mode enters the kernel (entry.ts), where that switches something; null elsewhere. */
  fromUser: ((cpu: GuestCpu) => void) | null = null;

  /** common_interrupt ... irq_exit: the entry and exit path every interrupt takes. */
  entry(cpu: GuestCpu): void {
    cpu.work(this.c.irqEntryExit);
    cpu.touch(KTEXT.entry);
    if (this.fromUser !== null) this.fromUser(cpu);
    cpu.touch(KTEXT.irq);
    cpu.touch(cpu.current.kstackVpn);
  }

  /** The guest's acknowledgement of ISA line `irq` at the i8259A: 2.6.20's mask_and_ack_8259A, or the patch's EOI alone. */
  ack(cpu: GuestCpu, irq: number): void {
    cpu.touch(KTEXT.i8259);
    if (this.paravirt) this.pic.ackPara(cpu.io, irq);
    else this.pic.maskAndAck(cpu.io, irq);
  }

  /** handle_level_irq's unmask after the handler (enable_8259A_irq), with the paravirt ack too: it masked the line as well. */
  unmask(cpu: GuestCpu, irq: number): void {
    this.pic.enableIrq(cpu.io, irq);
  }
}
