/**
 * Port I/O as the guest issues it (include/asm-i386/io.h): outb/inb on one CPU, each
 * charged by the platform (an exit under KVM) and then decoded by the device on the port
 * bus; outb_p/inb_p add slow_down_io(), a write to the POST port 0x80, which the paravirt
 * patch turns into nothing in a KVM guest.
 */
import type { GuestStats } from '../../shared/stats.js';
import type { IoBus } from '../machine/io-bus.js';
import type { Vcpu } from '../machine/vcpu.js';
import type { Platform } from '../hypervisor/platform.js';
import { PIO_IN, PIO_OUT } from '../machine/exit-times.js';

/** Port I/O as a driver issues it. Helpers take (io, port, value), unlike Linux's outb(value, port). */
export interface PortIo {
  outb(port: number, value: number): void;
  inb(port: number): number;
}

/** A 32-bit port read (inl), one access like any other. */
export interface PortIoLong extends PortIo {
  inl(port: number): number;
}

/** POST diagnostic port, written by outb_p as an I/O delay. */
export const IO_DELAY_PORT = 0x80;

/**
 * outb_p: the write followed by slow_down_io(), one write to port 0x80.
 * Linux writes whatever %al holds there; the value is ignored, 0 here.
 */
export function outbP(io: PortIo, port: number, value: number): void {
  io.outb(port, value);
  io.outb(IO_DELAY_PORT, 0);
}

/** inb_p: the read and the io delay. */
export function inbP(io: PortIo, port: number): number {
  const r = io.inb(port);
  io.outb(IO_DELAY_PORT, 0);
  return r;
}

/** One CPU's in/out instructions. */
export class CpuPortIo implements PortIoLong {
  constructor(
    private readonly v: Vcpu,
    private readonly platform: Platform,
    private readonly bus: IoBus,
    /** The paravirt patch: slow_down_io() is a no-op. */
    private readonly paravirt: boolean,
    private readonly stat: GuestStats,
  ) {}

  outb(port: number, value: number): void {
    const v = this.v;
    if (port === IO_DELAY_PORT) {
      // slow_down_io(): the patch makes it a no-op in a KVM guest.
      if (this.paravirt) return;
      this.stat.ioDelayWrites++;
      this.platform.portIo(v, port, PIO_OUT);
      return;
    }
    this.platform.portIo(v, port, PIO_OUT);
    this.bus.write(port, value, v.clock);
  }

  inb(port: number): number {
    const v = this.v;
    this.platform.portIo(v, port, PIO_IN);
    return this.bus.read(port, v.clock);
  }

  inl(port: number): number {
    return this.inb(port);
  }
}
