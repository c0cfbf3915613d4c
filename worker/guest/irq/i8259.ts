/**
 * The guest kernel's 8259A driver: the port I/O sequences of Linux 2.6.20
 * arch/i386/kernel/i8259.c (init_8259A, enable_8259A_irq, disable_8259A_irq,
 * mask_and_ack_8259A) and include/asm-i386/i8259.h (cached_irq_mask with its
 * master and slave bytes), plus the simplified ack of the 2007 KVM paravirt
 * patch. Port accesses go through a PortIo (guest/io.ts).
 */
import { outbP, type PortIo } from '../io.js';

/** Master command port (ICW1, OCW2, OCW3; reads IRR/ISR). */
export const PIC_MASTER_CMD = 0x20;
/** Master data port (ICW2..4, IMR). */
export const PIC_MASTER_IMR = 0x21;
/** Slave command port. */
export const PIC_SLAVE_CMD = 0xa0;
/** Slave data port. */
export const PIC_SLAVE_IMR = 0xa1;
/** Master input the slave is cascaded on. */
export const PIC_CASCADE_IR = 2;
/** ICW4: 8086/88 mode. */
export const MASTER_ICW4_DEFAULT = 0x01;
/** ICW4: 8086/88 mode. */
export const SLAVE_ICW4_DEFAULT = 0x01;
/** ICW4 bit: automatic EOI. */
export const PIC_ICW4_AEOI = 0x02;

/** Linux's 8259A driver state and operations. */
export class Linux8259Driver {
  /** cached_irq_mask: IMR of both chips, bit n = IRQ n masked. */
  cachedIrqMask = 0xffff;
  /** i8259A_auto_eoi: the mode init() programmed into the master. */
  autoEoi = false;
  /** irq_err_count: acks of IRQs the 8259A did not have in service. */
  irqErrCount = 0;

  /** cached_master_mask: low byte of cached_irq_mask. */
  get cachedMasterMask(): number {
    return this.cachedIrqMask & 0xff;
  }

  /** cached_slave_mask: high byte of cached_irq_mask. */
  get cachedSlaveMask(): number {
    return (this.cachedIrqMask >> 8) & 0xff;
  }

  /** init_8259A(auto_eoi). */
  init(io: PortIo, autoEoi = false): void {
    this.autoEoi = autoEoi;
    io.outb(PIC_MASTER_IMR, 0xff); // mask all of 8259A-1
    io.outb(PIC_SLAVE_IMR, 0xff); // mask all of 8259A-2

    outbP(io, PIC_MASTER_CMD, 0x11); // ICW1: edge, cascade, ICW4 follows
    outbP(io, PIC_MASTER_IMR, 0x20 + 0); // ICW2: IR0-7 -> vectors 0x20-0x27
    outbP(io, PIC_MASTER_IMR, 1 << PIC_CASCADE_IR); // ICW3: slave on IR2
    outbP(io, PIC_MASTER_IMR, autoEoi ? MASTER_ICW4_DEFAULT | PIC_ICW4_AEOI : MASTER_ICW4_DEFAULT);

    outbP(io, PIC_SLAVE_CMD, 0x11); // ICW1
    outbP(io, PIC_SLAVE_IMR, 0x20 + 8); // ICW2: IR0-7 -> vectors 0x28-0x2f
    outbP(io, PIC_SLAVE_IMR, PIC_CASCADE_IR); // ICW3: slave id 2
    outbP(io, PIC_SLAVE_IMR, SLAVE_ICW4_DEFAULT); // ICW4: never AEOI

    // udelay(100): no port access
    io.outb(PIC_MASTER_IMR, this.cachedMasterMask); // restore master IRQ mask
    io.outb(PIC_SLAVE_IMR, this.cachedSlaveMask); // restore slave IRQ mask
  }

  /** enable_8259A_irq(irq). */
  enableIrq(io: PortIo, irq: number): void {
    this.cachedIrqMask &= ~(1 << irq);
    this.writeMask(io, irq);
  }

  /** disable_8259A_irq(irq). */
  disableIrq(io: PortIo, irq: number): void {
    this.cachedIrqMask |= 1 << irq;
    this.writeMask(io, irq);
  }

  /**
   * mask_and_ack_8259A(irq): mask the line, then specific EOI(s), slave
   * before master. If the line was already masked, 2.6.20 first reads the
   * ISR (OCW3 0x0B, inb, OCW3 0x0A) to tell a spurious IRQ from a real one,
   * counts a spurious one in irq_err_count, and acks it either way.
   */
  maskAndAck(io: PortIo, irq: number): void {
    const irqmask = 1 << irq;
    if (this.cachedIrqMask & irqmask) {
      if (!this.irqReal(io, irq)) this.irqErrCount++;
    }
    this.cachedIrqMask |= irqmask;
    if (irq & 8) {
      io.inb(PIC_SLAVE_IMR); // DUMMY
      io.outb(PIC_SLAVE_IMR, this.cachedSlaveMask);
      io.outb(PIC_SLAVE_CMD, 0x60 + (irq & 7)); // specific EOI to slave
      io.outb(PIC_MASTER_CMD, 0x60 + PIC_CASCADE_IR); // specific EOI to master IR2
    } else {
      io.inb(PIC_MASTER_IMR); // DUMMY
      io.outb(PIC_MASTER_IMR, this.cachedMasterMask);
      io.outb(PIC_MASTER_CMD, 0x60 + irq); // specific EOI to master
    }
  }

  /**
   * mask_and_ack_kvm, the 2007 KVM paravirt patch's ack (quoted in the design notes):
   * mask_and_ack_8259A without its dummy IMR read (and so without the spurious-IRQ
   * check that read fed): the line's bit is still set in cached_irq_mask and the IMR
   * written, then the specific EOI(s), slave before master. The unmask after the handler
   * (enable_8259A_irq) is unchanged.
   */
  ackPara(io: PortIo, irq: number): void {
    this.cachedIrqMask |= 1 << irq;
    if (irq & 8) {
      io.outb(PIC_SLAVE_IMR, this.cachedSlaveMask);
      io.outb(PIC_SLAVE_CMD, 0x60 + (irq & 7)); // specific EOI to slave
      io.outb(PIC_MASTER_CMD, 0x60 + PIC_CASCADE_IR); // specific EOI to master IR2
    } else {
      io.outb(PIC_MASTER_IMR, this.cachedMasterMask);
      io.outb(PIC_MASTER_CMD, 0x60 + irq); // specific EOI to master
    }
  }

  /**
   * i8259A_irq_type.ack as init() chose it: disable_8259A_irq in AEOI mode
   * (nothing to acknowledge), mask_and_ack_8259A otherwise.
   */
  ack(io: PortIo, irq: number): void {
    if (this.autoEoi) this.disableIrq(io, irq);
    else this.maskAndAck(io, irq);
  }

  /** i8259A_irq_real(irq): is the line in service? Leaves reads on IRR. */
  private irqReal(io: PortIo, irq: number): boolean {
    const cmd = irq & 8 ? PIC_SLAVE_CMD : PIC_MASTER_CMD;
    io.outb(cmd, 0x0b); // ISR register
    const value = io.inb(cmd) & (1 << (irq & 7));
    io.outb(cmd, 0x0a); // back to the IRR register
    return value !== 0;
  }

  /** Write the cached mask byte of the chip `irq` belongs to. */
  private writeMask(io: PortIo, irq: number): void {
    if (irq & 8) io.outb(PIC_SLAVE_IMR, this.cachedSlaveMask);
    else io.outb(PIC_MASTER_IMR, this.cachedMasterMask);
  }
}
