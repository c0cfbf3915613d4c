import { describe, it, expect } from 'vitest';
import { PicPair } from '../../../../worker/machine/devices/i8259.js';
import { Linux8259Driver } from '../../../../worker/guest/irq/i8259.js';
import { IO_DELAY_PORT, outbP, type PortIo } from '../../../../worker/guest/io.js';

/** Guest port bus: PIC ports go to the pair, port 0x80 writes are counted. */
class Bus implements PortIo {
  delayWrites = 0;
  /** Every write, as [port, value]. */
  log: Array<[number, number]> = [];
  constructor(readonly pic: PicPair) {}
  outb(port: number, value: number): void {
    this.log.push([port, value]);
    if (PicPair.handlesPort(port)) this.pic.portWrite(port, value);
    else if (port === IO_DELAY_PORT) this.delayWrites++;
  }
  inb(port: number): number {
    return PicPair.handlesPort(port) ? this.pic.portRead(port) : 0xff;
  }
}

/** A pair initialised by Linux with IRQ2 (cascade) and IRQ0 enabled. */
function booted(autoEoi = false) {
  const pic = new PicPair();
  const io = new Bus(pic);
  const drv = new Linux8259Driver();
  drv.init(io, autoEoi);
  drv.enableIrq(io, 2);
  drv.enableIrq(io, 0);
  return { pic, io, drv };
}

/** Port counters relative to a starting point. */
function counts(pic: PicPair, start: { r: number; w: number }) {
  return { reads: pic.stat.portReads - start.r, writes: pic.stat.portWrites - start.w };
}
function mark(pic: PicPair) {
  return { r: pic.stat.portReads, w: pic.stat.portWrites };
}

describe('PicPair ports', () => {
  it('handles exactly 0x20, 0x21, 0xA0, 0xA1', () => {
    expect([0x20, 0x21, 0xa0, 0xa1].map((p) => PicPair.handlesPort(p))).toEqual([true, true, true, true]);
    expect([0x1f, 0x22, 0x80, 0x9f, 0xa2, 0x4d0].map((p) => PicPair.handlesPort(p))).toEqual([
      false, false, false, false, false, false,
    ]);
  });

  it('ignores and does not count other ports', () => {
    const pic = new PicPair();
    pic.portWrite(0x80, 1);
    expect(pic.portRead(0x80)).toBe(0xff);
    expect(pic.stat.portWrites).toBe(0);
    expect(pic.stat.portReads).toBe(0);
  });
});

describe('Linux 2.6.20 init_8259A', () => {
  it('issues the exact port sequence', () => {
    const io = new Bus(new PicPair());
    new Linux8259Driver().init(io);
    expect(io.log).toEqual([
      [0x21, 0xff], [0xa1, 0xff],
      [0x20, 0x11], [0x80, 0], [0x21, 0x20], [0x80, 0], [0x21, 0x04], [0x80, 0], [0x21, 0x01], [0x80, 0],
      [0xa0, 0x11], [0x80, 0], [0xa1, 0x28], [0x80, 0], [0xa1, 0x02], [0x80, 0], [0xa1, 0x01], [0x80, 0],
      [0x21, 0xff], [0xa1, 0xff],
    ]);
  });

  it('leaves both chips initialised; enabling IRQ2 and IRQ0 gives IMR 0xFA / 0xFF', () => {
    const { pic, io, drv } = booted();
    const { master, slave } = pic;
    expect(pic.stat.portWrites).toBe(14); // 12 by init, 1 per enableIrq
    expect(pic.stat.portReads).toBe(0);
    expect(io.delayWrites).toBe(8);
    expect(drv.cachedIrqMask).toBe(0xfffa);
    expect(master.imr).toBe(0xfa);
    expect(slave.imr).toBe(0xff);
    expect(master.icw2).toBe(0x20);
    expect(slave.icw2).toBe(0x28);
    expect(master.icw3).toBe(0x04);
    expect(slave.icw3).toBe(2);
    expect(master.icw4).toBe(0x01);
    expect(slave.icw4).toBe(0x01);
    expect([master.initStep, slave.initStep]).toEqual([0, 0]);
    expect([master.irr, master.isr, slave.irr, slave.isr]).toEqual([0, 0, 0, 0]);
    expect(master.autoEoi).toBe(false);
    expect(master.readIsr).toBe(false);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('AEOI mode programs ICW4 0x03 on the master only', () => {
    const { pic } = booted(true);
    expect(pic.master.icw4).toBe(0x03);
    expect(pic.master.autoEoi).toBe(true);
    expect(pic.slave.icw4).toBe(0x01);
    expect(pic.slave.autoEoi).toBe(false);
  });

  it('outbP writes the port, then 0 to port 0x80', () => {
    const io = new Bus(new PicPair());
    outbP(io, 0x21, 0x5a);
    expect(io.log).toEqual([[0x21, 0x5a], [0x80, 0]]);
  });
});

describe('master IRQ through the Linux ack paths', () => {
  it('IRQ0: INTA gives 0x20, mask_and_ack is 1 read + 2 writes', () => {
    const { pic, io, drv } = booted();
    pic.pulseIrq(0);
    expect(pic.master.irr).toBe(0x01);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x20);
    expect(pic.stat.irqsDelivered).toBe(1);
    expect(pic.master.isr).toBe(0x01);
    expect(pic.master.irr).toBe(0);
    expect(pic.hasInterrupt()).toBe(false);

    const start = mark(pic);
    drv.maskAndAck(io, 0);
    expect(counts(pic, start)).toEqual({ reads: 1, writes: 2 });
    expect(io.log.slice(-2)).toEqual([[0x21, 0xfb], [0x20, 0x60]]);
    expect(pic.master.imr).toBe(0xfb);
    expect(pic.master.isr).toBe(0);
    expect(drv.cachedIrqMask).toBe(0xfffb);

    drv.enableIrq(io, 0); // end_8259A_irq after the handler
    expect(pic.master.imr).toBe(0xfa);
    expect(counts(pic, start)).toEqual({ reads: 1, writes: 3 });
  });

  it('IRQ0: the paravirt ack (mask_and_ack_kvm) is the mask and the EOI: 2 writes, no dummy read; the unmask after is 1 more', () => {
    const { pic, io, drv } = booted();
    pic.pulseIrq(0);
    expect(pic.acknowledge()).toBe(0x20);
    const start = mark(pic);
    drv.ackPara(io, 0);
    expect(counts(pic, start)).toEqual({ reads: 0, writes: 2 });
    expect(io.log.slice(-2)).toEqual([[0x21, 0xfb], [0x20, 0x60]]);
    expect(pic.master.isr).toBe(0);
    expect(pic.master.imr).toBe(0xfb);
    expect(drv.cachedIrqMask).toBe(0xfffb);
    // masked until the handler's unmask (enable_8259A_irq)
    pic.pulseIrq(0);
    expect(pic.hasInterrupt()).toBe(false);
    drv.enableIrq(io, 0);
    expect(counts(pic, start)).toEqual({ reads: 0, writes: 3 });
    expect(pic.master.imr).toBe(0xfa);
    expect(pic.acknowledge()).toBe(0x20);
  });

  it('AEOI: the ISR bit is never set, ack is disable_8259A_irq (1 write)', () => {
    const { pic, io, drv } = booted(true);
    pic.pulseIrq(0);
    expect(pic.acknowledge()).toBe(0x20);
    expect(pic.master.isr).toBe(0);
    const start = mark(pic);
    drv.ack(io, 0);
    expect(counts(pic, start)).toEqual({ reads: 0, writes: 1 });
    expect(pic.master.imr).toBe(0xfb);
  });
});

describe('slave IRQ cascaded on IR2', () => {
  it('IRQ8 (RTC): vector 0x28, master ISR bit 2 + slave ISR bit 0; mask_and_ack clears both', () => {
    const { pic, io, drv } = booted();
    drv.enableIrq(io, 8);
    expect(pic.slave.imr).toBe(0xfe);
    pic.pulseIrq(8);
    expect(pic.slave.irr).toBe(0x01);
    expect(pic.master.irr).toBe(0x04);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x28);
    expect([pic.master.isr, pic.slave.isr]).toEqual([0x04, 0x01]);
    expect([pic.master.irr, pic.slave.irr]).toEqual([0, 0]);

    const start = mark(pic);
    drv.maskAndAck(io, 8);
    expect(counts(pic, start)).toEqual({ reads: 1, writes: 3 });
    expect(io.log.slice(-3)).toEqual([[0xa1, 0xff], [0xa0, 0x60], [0x20, 0x62]]);
    expect([pic.master.isr, pic.slave.isr]).toEqual([0, 0]);
    expect(pic.slave.imr).toBe(0xff);
    expect(drv.cachedIrqMask).toBe(0xfffa);
  });

  it('IRQ12 (PS/2 mouse): vector 0x2C; the paravirt ack is the slave IMR and 2 EOIs: 3 writes', () => {
    const { pic, io, drv } = booted();
    drv.enableIrq(io, 12);
    expect(pic.slave.imr).toBe(0xef);
    pic.pulseIrq(12);
    expect(pic.acknowledge()).toBe(0x2c);
    expect([pic.master.isr, pic.slave.isr]).toEqual([0x04, 0x10]);
    const start = mark(pic);
    drv.ackPara(io, 12);
    expect(counts(pic, start)).toEqual({ reads: 0, writes: 3 });
    expect(io.log.slice(-3)).toEqual([[0xa1, 0xff], [0xa0, 0x64], [0x20, 0x62]]);
    expect([pic.master.isr, pic.slave.isr]).toEqual([0, 0]);
    expect(pic.slave.imr).toBe(0xff);
  });

  it('a slave IRQ waits while IRQ0 is in service; IRQ0 nests over a slave IRQ', () => {
    const { pic, io, drv } = booted();
    drv.enableIrq(io, 8);
    pic.pulseIrq(0);
    expect(pic.acknowledge()).toBe(0x20);
    pic.pulseIrq(8);
    expect(pic.master.irr).toBe(0x04);
    expect(pic.hasInterrupt()).toBe(false);
    drv.ackPara(io, 0);
    expect(pic.acknowledge()).toBe(0x28);
    drv.enableIrq(io, 0); // IRQ0's handler is done
    pic.pulseIrq(0);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x20);
    expect([pic.master.isr, pic.slave.isr]).toEqual([0x05, 0x01]);
  });

  it('a slave request masked before INTA gives the spurious IRQ15 vector 0x2F', () => {
    const { pic, io, drv } = booted();
    drv.enableIrq(io, 8);
    pic.pulseIrq(8);
    drv.disableIrq(io, 8); // slave INT drops, master IRR bit 2 stays latched
    expect(pic.master.irr).toBe(0x04);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x2f);
    expect(pic.stat.irqsDelivered).toBe(0);
    expect(pic.spuriousAcks).toBe(1);
    expect([pic.master.isr, pic.slave.isr]).toEqual([0x04, 0]);
    // Linux: IRQ15 is masked, so mask_and_ack_8259A checks the ISR first
    const start = mark(pic);
    drv.maskAndAck(io, 15);
    expect(counts(pic, start)).toEqual({ reads: 2, writes: 5 });
    expect(drv.irqErrCount).toBe(1);
    expect(pic.master.isr).toBe(0);
    expect(pic.slave.readIsr).toBe(false);
  });
});

describe('priority', () => {
  it('IRQ0 before IRQ1; IRQ3 waits for the EOI of IRQ0', () => {
    const { pic, io, drv } = booted();
    drv.enableIrq(io, 1);
    drv.enableIrq(io, 3);
    pic.pulseIrq(1);
    pic.pulseIrq(0);
    expect(pic.master.irr).toBe(0x03);
    expect(pic.acknowledge()).toBe(0x20);
    // IRQ1 is lower priority than IRQ0 in service
    expect(pic.hasInterrupt()).toBe(false);
    pic.pulseIrq(3);
    expect(pic.master.irr).toBe(0x0a);
    expect(pic.hasInterrupt()).toBe(false);
    pic.portWrite(0x20, 0x60); // specific EOI IR0
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x21);
    expect(pic.master.isr).toBe(0x02);
    expect(pic.master.irr).toBe(0x08);
  });

  it('a masked line is not delivered but stays in IRR', () => {
    const { pic } = booted();
    pic.pulseIrq(5); // IMR bit 5 set
    expect(pic.master.irr).toBe(0x20);
    expect(pic.hasInterrupt()).toBe(false);
    pic.portWrite(0x21, 0xda); // unmask IR5
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x25);
  });

  it('non-specific EOI clears the highest-priority in-service bit', () => {
    const { pic } = booted();
    pic.portWrite(0x21, 0x00);
    pic.pulseIrq(6);
    expect(pic.acknowledge()).toBe(0x26);
    pic.pulseIrq(4);
    expect(pic.acknowledge()).toBe(0x24);
    expect(pic.master.isr).toBe(0x50);
    pic.portWrite(0x20, 0x20);
    expect(pic.master.isr).toBe(0x40);
    pic.portWrite(0x20, 0x20);
    expect(pic.master.isr).toBe(0);
    pic.portWrite(0x20, 0x20); // nothing in service: no effect
    expect(pic.master.isr).toBe(0);
  });

  it('OCW2 set priority 0xC3 makes IR4 highest', () => {
    const { pic } = booted();
    pic.portWrite(0x21, 0x00);
    pic.portWrite(0x20, 0xc3); // IR3 lowest
    expect(pic.master.priorityAdd).toBe(4);
    pic.pulseIrq(1);
    pic.pulseIrq(5);
    expect(pic.acknowledge()).toBe(0x25);
    expect(pic.hasInterrupt()).toBe(false); // IR1 ranks below IR5 now
  });

  it('rotate on non-specific EOI (0xA0) makes the serviced line lowest', () => {
    const { pic } = booted();
    pic.portWrite(0x21, 0x00);
    pic.pulseIrq(1);
    expect(pic.acknowledge()).toBe(0x21);
    pic.portWrite(0x20, 0xa0);
    expect(pic.master.isr).toBe(0);
    expect(pic.master.priorityAdd).toBe(2);
    pic.pulseIrq(0);
    pic.pulseIrq(7);
    expect(pic.acknowledge()).toBe(0x27);
  });

  it('special mask mode lets a lower line in while a masked one is in service', () => {
    const { pic, io, drv } = booted();
    drv.enableIrq(io, 3);
    pic.pulseIrq(0);
    expect(pic.acknowledge()).toBe(0x20);
    pic.pulseIrq(3);
    expect(pic.hasInterrupt()).toBe(false);
    pic.portWrite(0x20, 0x68); // OCW3: set special mask
    pic.portWrite(0x21, 0xf3); // mask IR0 (and keep IR3 open)
    expect(pic.master.specialMask).toBe(true);
    expect(pic.acknowledge()).toBe(0x23);
    expect(pic.master.isr).toBe(0x09);
    pic.portWrite(0x20, 0x48); // OCW3: reset special mask
    expect(pic.master.specialMask).toBe(false);
  });
});

describe('OCW3 register reads and poll', () => {
  it('0x0B selects ISR, 0x0A selects IRR on the command port; data port reads IMR', () => {
    const { pic, io, drv } = booted();
    drv.enableIrq(io, 1);
    pic.pulseIrq(0);
    pic.pulseIrq(1);
    pic.acknowledge();
    expect(pic.portRead(0x20)).toBe(0x02); // IRR by default
    pic.portWrite(0x20, 0x0b);
    expect(pic.master.readIsr).toBe(true);
    expect(pic.portRead(0x20)).toBe(0x01);
    expect(pic.portRead(0x20)).toBe(0x01);
    pic.portWrite(0x20, 0x0a);
    expect(pic.portRead(0x20)).toBe(0x02);
    expect(pic.portRead(0x21)).toBe(0xf8);
    expect(pic.stat.portReads).toBe(5);
  });

  it('poll command 0x0C reads 0x80|line and acknowledges it', () => {
    const { pic } = booted();
    pic.pulseIrq(0);
    pic.portWrite(0x20, 0x0c);
    expect(pic.portRead(0x20)).toBe(0x80);
    expect(pic.master.isr).toBe(0x01);
    expect(pic.master.irr).toBe(0);
    expect(pic.master.poll).toBe(false);
    pic.portWrite(0x20, 0x0c);
    expect(pic.portRead(0x20)).toBe(0x00); // nothing pending
  });
});

describe('edge triggering', () => {
  it('a line held high latches once; a new edge latches again', () => {
    const { pic } = booted();
    pic.setIrq(0, 1);
    expect(pic.master.lastLevel & 1).toBe(1);
    expect(pic.acknowledge()).toBe(0x20);
    pic.portWrite(0x20, 0x20);
    pic.setIrq(0, 1); // still high: no new edge
    expect(pic.master.irr).toBe(0);
    expect(pic.hasInterrupt()).toBe(false);
    pic.setIrq(0, 0);
    pic.setIrq(0, 1);
    expect(pic.master.irr).toBe(0x01);
    expect(pic.acknowledge()).toBe(0x20);
    expect(pic.stat.irqsDelivered).toBe(2);
  });

  it('ICW1 clears IRR, ISR and IMR; a line held high needs a new edge', () => {
    const { pic } = booted();
    pic.setIrq(1, 1);
    pic.pulseIrq(0);
    pic.acknowledge();
    pic.portWrite(0x20, 0x0b);
    pic.portWrite(0x20, 0x11);
    const m = pic.master;
    expect([m.irr, m.isr, m.imr, m.initStep, m.readIsr]).toEqual([0, 0, 0, 2, false]);
    pic.portWrite(0x21, 0x30);
    pic.portWrite(0x21, 0x04);
    pic.portWrite(0x21, 0x01);
    expect([m.icw2, m.icw3, m.icw4, m.initStep]).toEqual([0x30, 0x04, 0x01, 0]);
    expect(pic.hasInterrupt()).toBe(false);
    pic.setIrq(1, 0);
    pic.setIrq(1, 1);
    expect(pic.acknowledge()).toBe(0x31);
  });

  it('ICW2 ignores the low 3 bits; single mode skips ICW3', () => {
    const pic = new PicPair();
    pic.portWrite(0x20, 0x13); // edge, single, ICW4 follows
    pic.portWrite(0x21, 0x47);
    expect(pic.master.initStep).toBe(4);
    pic.portWrite(0x21, 0x01);
    expect([pic.master.icw2, pic.master.icw3, pic.master.initStep]).toEqual([0x40, 0, 0]);
    pic.pulseIrq(0);
    expect(pic.acknowledge()).toBe(0x40);
  });
});

describe('spurious INTA', () => {
  it('nothing pending: master IR7 vector 0x27, no ISR bit, not counted', () => {
    const { pic } = booted();
    expect(pic.acknowledge()).toBe(0x27);
    expect(pic.master.isr).toBe(0);
    expect(pic.stat.irqsDelivered).toBe(0);
    expect(pic.spuriousAcks).toBe(1);
  });
});
