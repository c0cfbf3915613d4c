/**
 * The I/O port space (64 Ki ports): devices register the ports they decode, and the
 * guest's in/out instructions reach them through it (after the hypervisor has charged
 * what the access costs in its mode). A read of a port no device decodes floats: 0xFF.
 */
import type { Vcpu } from './vcpu.js';

/** A device on the port bus. `now` is the cycle of the accessing vCPU (for devices that start timed work). */
export interface IoDevice {
  portRead(port: number, now: number): number;
  portWrite(port: number, value: number, now: number): void;
}

export class IoBus {
  /** Device index + 1 of each port, 0 if none decodes it. */
  private readonly owner = new Uint8Array(1 << 16);
  private readonly devices: IoDevice[] = [];

  /** `device` decodes ports first..first+count-1. */
  register(device: IoDevice, first: number, count = 1): void {
    let id = this.devices.indexOf(device);
    if (id < 0) id = this.devices.push(device) - 1;
    for (let p = first; p < first + count; p++) {
      if (this.owner[p] !== 0) throw new Error(`port 0x${p.toString(16)} is decoded by two devices`);
      this.owner[p] = id + 1;
    }
  }

  read(port: number, now: number): number {
    const id = this.owner[port]!;
    return id === 0 ? 0xff : this.devices[id - 1]!.portRead(port, now);
  }

  write(port: number, value: number, now: number): void {
    const id = this.owner[port]!;
    if (id !== 0) this.devices[id - 1]!.portWrite(port, value, now);
  }
}

/**
 * The board's ISA interrupt lines (pc.ts raises them through the PIC): what a device that
 * interrupts is given, an object rather than a closure made per VM, so that the code
 * compiled for one VM's device serves the next VM's in the same thread.
 */
export interface IsaLines {
  raiseIsaIrq(irq: number, v: Vcpu, wasHalted: boolean, from?: number): void;
}
