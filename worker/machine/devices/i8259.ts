/**
 * Intel 8259A programmable interrupt controller, and the PC/AT pair of them:
 * master at ports 0x20/0x21, slave at 0xA0/0xA1 whose INT output drives the
 * master's IR2 input.
 *
 * Modelled after the Intel 8259A datasheet (initialisation ICW1..ICW4,
 * operation command words OCW1..OCW3, priority resolver, cascade) and read
 * the way Linux 2.6.20 (arch/i386/kernel/i8259.c) programs it.
 *
 * Modelling choices:
 * - Edge mode: a 0->1 transition of an IR line latches its IRR bit, and the
 *   bit stays latched if the line drops again before INTA, so a pulse is
 *   never lost. (The datasheet requires the line to stay high until the first
 *   INTA pulse and otherwise answers with the default IR7 vector.)
 * - Level mode (ICW1 LTIM) is modelled: IRR follows the line, INTA does not
 *   clear it. The PIIX ELCR registers (0x4D0/0x4D1) are not part of the 8259A
 *   and are not modelled.
 * - OCW2 is modelled in full: non-specific / specific EOI, rotate on
 *   non-specific / specific EOI, set priority, set / clear rotate in AEOI.
 * - OCW3 read-register select, poll command and special mask mode are
 *   modelled. A poll read is the INTA of the chip being read: on the master it
 *   does not reach the slave, software polls the slave itself.
 * - ICW4: AEOI and special fully nested mode are modelled; 8080/85 mode and
 *   buffered mode are not (the master/slave role is the SP/EN strap, given to
 *   the constructor).
 * - The power-on state of a real 8259A is undefined; here it is
 *   uninitialised, all lines masked, vector base 0.
 */
import { newGroup, type PicStats } from '../../../shared/stats.js';
import type { IoBus, IoDevice } from '../io-bus.js';

/** ICW1 bit 0: ICW4 will follow. */
const ICW1_IC4 = 0x01;
/** ICW1 bit 1: single chip, no ICW3. */
const ICW1_SNGL = 0x02;
/** ICW1 bit 3: level-triggered inputs. */
const ICW1_LTIM = 0x08;
/** Command-port bit 4: this write is ICW1. */
const ICW1_INIT = 0x10;
/** Command-port bit 3 (with bit 4 clear): this write is OCW3, else OCW2. */
const OCW3_SELECT = 0x08;
/** ICW4 bit 1: automatic end of interrupt. */
const ICW4_AEOI = 0x02;
/** ICW4 bit 4: special fully nested mode. */
const ICW4_SFNM = 0x10;

/** One 8259A chip. */
export class I8259 {
  /** SP/EN strap: true for the master, false for a slave. */
  readonly isMaster: boolean;

  /** Interrupt request register: requests latched, not yet acknowledged. */
  irr = 0;
  /** In-service register: acknowledged, waiting for EOI. */
  isr = 0;
  /** Interrupt mask register (OCW1): 1 = line masked. */
  imr = 0xff;
  /** Current level of each IR input; edge detection compares against it. */
  lastLevel = 0;

  /** Last ICW1 written. */
  icw1 = 0;
  /** ICW2: vector base (T7..T3; low 3 bits are the line number). */
  icw2 = 0;
  /** ICW3: master = bitmask of lines with a slave; slave = its id (0..7). */
  icw3 = 0;
  /** Last ICW4 written (0 if ICW1 said none follows). */
  icw4 = 0;
  /** Next ICW expected on the data port (2, 3 or 4); 0 once initialised. */
  initStep = 0;

  /** OCW3 RR/RIS: command-port reads return ISR (true) or IRR (false). */
  readIsr = false;
  /** OCW3 P: the next read is a poll (and acknowledges the request). */
  poll = false;
  /** OCW3 SMM: masked lines do not block others while in service. */
  specialMask = false;
  /** ICW1 LTIM: level-triggered inputs. */
  levelTriggered = false;
  /** ICW4 AEOI: ISR bit is not kept at INTA. */
  autoEoi = false;
  /** ICW4 SFNM: a slave line in service does not block the same line. */
  specialFullyNested = false;
  /** OCW2 R=1 SL=0 EOI=0: rotate priority on each automatic EOI. */
  rotateOnAutoEoi = false;
  /** Line with the highest priority (0 = fixed priority, IR0 highest). */
  priorityAdd = 0;

  constructor(isMaster: boolean) {
    this.isMaster = isMaster;
    this.reset();
  }

  /** Power-on state: uninitialised, all lines masked, nothing pending. */
  reset(): void {
    this.irr = 0;
    this.isr = 0;
    this.imr = 0xff;
    this.lastLevel = 0;
    this.icw1 = 0;
    this.icw2 = 0;
    this.icw3 = this.isMaster ? 0 : 7;
    this.icw4 = 0;
    this.initStep = 0;
    this.readIsr = false;
    this.poll = false;
    this.specialMask = false;
    this.levelTriggered = false;
    this.autoEoi = false;
    this.specialFullyNested = false;
    this.rotateOnAutoEoi = false;
    this.priorityAdd = 0;
  }

  /** Drive IR input `line` (0..7) to `level`. */
  setLevel(line: number, level: number): void {
    const mask = 1 << line;
    if (level) {
      if (this.levelTriggered || (this.lastLevel & mask) === 0) this.irr |= mask;
      this.lastLevel |= mask;
    } else {
      if (this.levelTriggered) this.irr &= ~mask;
      this.lastLevel &= ~mask;
    }
  }

  /**
   * Priority rank (0 = highest) of the highest-priority bit of `mask`,
   * honouring rotation; 8 if `mask` is empty.
   */
  priorityOf(mask: number): number {
    if (mask === 0) return 8;
    const p = this.priorityAdd;
    const rotated = ((mask >>> p) | (mask << (8 - p))) & 0xff;
    return 31 - Math.clz32(rotated & -rotated);
  }

  /** The line the INT output is asserted for, or -1 if INT is low. */
  pendingLine(): number {
    const request = this.irr & ~this.imr & 0xff;
    if (request === 0) return -1;
    const requestRank = this.priorityOf(request);
    const inService = this.specialMask ? this.isr & ~this.imr & 0xff : this.isr;
    const serviceRank = this.priorityOf(inService);
    const line = (requestRank + this.priorityAdd) & 7;
    if (requestRank < serviceRank) return line;
    // Special fully nested: a cascaded line may interrupt itself, so that a
    // higher-priority request on the slave gets through.
    if (
      this.specialFullyNested &&
      this.isMaster &&
      requestRank === serviceRank &&
      (this.icw3 & (1 << line)) !== 0
    ) {
      return line;
    }
    return -1;
  }

  /** INT output. */
  hasInterrupt(): boolean {
    return this.pendingLine() >= 0;
  }

  /** INTA cycle for `line`: move the request from IRR to ISR (or AEOI). */
  intAck(line: number): void {
    const mask = 1 << line;
    if (!this.levelTriggered) this.irr &= ~mask;
    if (!this.autoEoi) this.isr |= mask;
    else if (this.rotateOnAutoEoi) this.priorityAdd = (line + 1) & 7;
  }

  /** Highest-priority line in service, or -1. */
  highestInService(): number {
    if (this.isr === 0) return -1;
    return (this.priorityOf(this.isr) + this.priorityAdd) & 7;
  }

  /** Write to the command port (0x20 / 0xA0): ICW1, OCW2 or OCW3. */
  writeCommand(value: number): void {
    value &= 0xff;
    if (value & ICW1_INIT) this.startInit(value);
    else if (value & OCW3_SELECT) this.writeOcw3(value);
    else this.writeOcw2(value);
  }

  /** Write to the data port (0x21 / 0xA1): ICW2..ICW4 during init, else OCW1. */
  writeData(value: number): void {
    value &= 0xff;
    switch (this.initStep) {
      case 0:
        this.imr = value;
        return;
      case 2:
        this.icw2 = value & 0xf8;
        this.initStep = (this.icw1 & ICW1_SNGL) === 0 ? 3 : this.afterIcw3();
        return;
      case 3:
        this.icw3 = this.isMaster ? value : value & 7;
        this.initStep = this.afterIcw3();
        return;
      case 4:
        this.icw4 = value;
        this.autoEoi = (value & ICW4_AEOI) !== 0;
        this.specialFullyNested = (value & ICW4_SFNM) !== 0;
        this.initStep = 0;
        return;
    }
  }

  /** Read of the command port: poll word, or IRR / ISR as selected by OCW3. */
  readCommand(): number {
    if (this.poll) return this.pollRead();
    return this.readIsr ? this.isr : this.irr;
  }

  /** Read of the data port: poll word, or IMR. */
  readData(): number {
    if (this.poll) return this.pollRead();
    return this.imr;
  }

  /**
   * ICW1: start initialisation. The edge-sense latches (IRR), IMR and ISR
   * are cleared, priority goes back to IR0 highest, special mask mode off,
   * reads select IRR, slave address 7, ICW4 functions off.
   */
  private startInit(value: number): void {
    this.icw1 = value;
    this.levelTriggered = (value & ICW1_LTIM) !== 0;
    this.irr = this.levelTriggered ? this.lastLevel : 0;
    this.isr = 0;
    this.imr = 0;
    this.priorityAdd = 0;
    this.specialMask = false;
    this.readIsr = false;
    this.poll = false;
    this.icw3 = this.isMaster ? 0 : 7;
    this.icw4 = 0;
    this.autoEoi = false;
    this.specialFullyNested = false;
    this.rotateOnAutoEoi = false;
    this.initStep = 2;
  }

  /** Next init step after ICW3 (or after ICW2 in single mode). */
  private afterIcw3(): number {
    return (this.icw1 & ICW1_IC4) !== 0 ? 4 : 0;
  }

  /** OCW2: R, SL, EOI in bits 7..5, level in bits 2..0. */
  private writeOcw2(value: number): void {
    const level = value & 7;
    switch (value & 0xe0) {
      case 0x20: {
        // non-specific EOI
        const line = this.highestInService();
        if (line >= 0) this.isr &= ~(1 << line);
        break;
      }
      case 0x60: // specific EOI
        this.isr &= ~(1 << level);
        break;
      case 0xa0: {
        // rotate on non-specific EOI
        const line = this.highestInService();
        if (line >= 0) {
          this.isr &= ~(1 << line);
          this.priorityAdd = (line + 1) & 7;
        }
        break;
      }
      case 0xe0: // rotate on specific EOI
        this.isr &= ~(1 << level);
        this.priorityAdd = (level + 1) & 7;
        break;
      case 0xc0: // set priority: `level` becomes the lowest
        this.priorityAdd = (level + 1) & 7;
        break;
      case 0x80: // set rotate in AEOI mode
        this.rotateOnAutoEoi = true;
        break;
      case 0x00: // clear rotate in AEOI mode
        this.rotateOnAutoEoi = false;
        break;
      // 0x40: no operation
    }
  }

  /** OCW3: ESMM/SMM in bits 6..5, P in bit 2, RR/RIS in bits 1..0. */
  private writeOcw3(value: number): void {
    if (value & 0x04) this.poll = true;
    if (value & 0x02) this.readIsr = (value & 0x01) !== 0;
    if (value & 0x40) this.specialMask = (value & 0x20) !== 0;
  }

  /** Poll read: 0x80 | line and acknowledge it, or 0 if nothing pending. */
  private pollRead(): number {
    this.poll = false;
    const line = this.pendingLine();
    if (line < 0) return 0;
    this.intAck(line);
    return 0x80 | line;
  }
}

/** Master command port (ICW1, OCW2, OCW3; reads IRR/ISR). */
const MASTER_CMD = 0x20;
/** Master data port (ICW2..4, OCW1 = IMR). */
const MASTER_DATA = 0x21;
/** Slave command port. */
const SLAVE_CMD = 0xa0;
/** Slave data port. */
const SLAVE_DATA = 0xa1;
/** Master input wired to the slave's INT output. */
const CASCADE_IR = 2;

/**
 * The PC's master (ports 0x20/0x21) + slave (0xA0/0xA1) pair, slave on
 * master IR2.
 *
 * IRQ2 has no device of its own: the master's IR2 input is the slave's INT
 * output, so setIrq(2, ...) is ignored (ISA "IRQ2" devices appear as IRQ9).
 * On the port bus it decodes its four ports; called directly with another
 * port it ignores writes and reads 0xFF, and does not count them.
 */
export class PicPair implements IoDevice {
  readonly master: I8259;
  readonly slave: I8259;
  /** Port reads and writes of the four PIC ports, and INTA cycles that delivered a real (non-spurious) vector. */
  readonly stat: PicStats;
  /** INTA cycles answered with a spurious IR7 vector (or a floating bus). */
  spuriousAcks = 0;

  constructor(stat: PicStats = newGroup('pic')) {
    this.master = new I8259(true);
    this.slave = new I8259(false);
    this.stat = stat;
  }

  /** Decode the four ports on `bus`. */
  attach(bus: IoBus): void {
    bus.register(this, MASTER_CMD, 2);
    bus.register(this, SLAVE_CMD, 2);
  }

  /** true if `port` is one of 0x20, 0x21, 0xA0, 0xA1 */
  static handlesPort(port: number): boolean {
    return port === MASTER_CMD || port === MASTER_DATA || port === SLAVE_CMD || port === SLAVE_DATA;
  }

  portWrite(port: number, value: number): void {
    switch (port) {
      case MASTER_CMD:
        this.master.writeCommand(value);
        break;
      case MASTER_DATA:
        this.master.writeData(value);
        break;
      case SLAVE_CMD:
        this.slave.writeCommand(value);
        this.updateCascade();
        break;
      case SLAVE_DATA:
        this.slave.writeData(value);
        this.updateCascade();
        break;
      default:
        return;
    }
    this.stat.portWrites++;
  }

  portRead(port: number): number {
    let value: number;
    switch (port) {
      case MASTER_CMD:
        value = this.master.readCommand();
        break;
      case MASTER_DATA:
        value = this.master.readData();
        break;
      case SLAVE_CMD:
        value = this.slave.readCommand();
        this.updateCascade();
        break;
      case SLAVE_DATA:
        value = this.slave.readData();
        this.updateCascade();
        break;
      default:
        return 0xff;
    }
    this.stat.portReads++;
    return value;
  }

  /** Drive IRQ line 0..15 (edge triggered: a 0→1 transition latches the bit in IRR). */
  setIrq(irq: number, level: 0 | 1): void {
    if (irq < 8) {
      if (irq === CASCADE_IR) return;
      if (irq < 0) throw new RangeError('IRQ out of range');
      this.master.setLevel(irq, level);
    } else {
      if (irq > 15) throw new RangeError('IRQ out of range');
      this.slave.setLevel(irq - 8, level);
      this.updateCascade();
    }
  }

  /** Convenience: raise then lower the line (one edge). */
  pulseIrq(irq: number): void {
    this.setIrq(irq, 1);
    this.setIrq(irq, 0);
  }

  /** INT output of the master to the CPU. */
  hasInterrupt(): boolean {
    return this.master.pendingLine() >= 0;
  }

  /**
   * INTA cycle by the CPU; returns the vector.
   *
   * With no request the master answers with its IR7 vector (icw2 + 7) and
   * sets no ISR bit; likewise the slave when the master's cascade request has
   * no slave request behind it any more (icw2 + 7 of the slave, the
   * "spurious IRQ15"). If no slave's id matches the cascade line the data bus
   * floats and reads 0xFF. These count in spuriousAcks, not irqsDelivered.
   */
  acknowledge(): number {
    const master = this.master;
    const line = master.pendingLine();
    if (line < 0) {
      this.spuriousAcks++;
      return master.icw2 + 7;
    }
    master.intAck(line);
    if ((master.icw3 & (1 << line)) === 0) {
      this.stat.irqsDelivered++;
      return master.icw2 + line;
    }
    // Cascaded line: the slave whose id is on CAS0..2 answers.
    const slave = this.slave;
    if (slave.icw3 !== line) {
      this.spuriousAcks++;
      return 0xff;
    }
    const slaveLine = slave.pendingLine();
    if (slaveLine < 0) {
      this.spuriousAcks++;
      return slave.icw2 + 7;
    }
    slave.intAck(slaveLine);
    this.updateCascade();
    this.stat.irqsDelivered++;
    return slave.icw2 + slaveLine;
  }

  /** Propagate the slave's INT output to the master's IR2 input. */
  private updateCascade(): void {
    this.master.setLevel(CASCADE_IR, this.slave.pendingLine() >= 0 ? 1 : 0);
  }
}
