/**
 * The primary IDE channel as QEMU 0.8/0.9 emulates it (hw/ide.c, PIIX bus-master DMA):
 * the command block at 0x1F0-0x1F7, the bus-master registers, one disk, IRQ14 on the
 * slave i8259A. A request is a DMA read: the driver programs the PRD table address and
 * the command, starts the bus master, and the device raises IRQ14 when the transfer is
 * done, `serviceNs` later (QEMU serving the read from the host).
 *
 * Only what makes exits and latency is modelled: the port accesses of each step (each an
 * exit to user space under KVM), a FIFO of requests, one in flight at a time.
 */
import type { Task } from '../guest/task.js';

export const IDE_IRQ = 14;
/** Command block registers (ATA): data, error/features, sector count, LBA 0-2, drive, status/command. */
export const IDE_PORT_BASE = 0x1f0;
export const IDE_STATUS = 0x1f7;
export const IDE_COMMAND = 0x1f7;
/** PIIX bus-master IDE registers for the primary channel (BAR4, as QEMU places it). */
export const BMDMA_COMMAND = 0xc000;
export const BMDMA_STATUS = 0xc002;
export const BMDMA_PRD = 0xc004;
export const ATA_CMD_READ_DMA = 0xc8;

export class IdeDisk {
  /** Requests waiting for the device, oldest first; the head is in flight. */
  readonly queue: Task[] = [];
  /** Cycle at which the request in flight completes (Infinity when idle). */
  completionAt = Infinity;
  /** Requests completed. */
  completed = 0;

  constructor(readonly serviceCycles: number) {}

  get busy(): boolean {
    return this.completionAt !== Infinity;
  }

  /** The device starts the head of the queue at `now`. */
  start(now: number): void {
    this.completionAt = now + this.serviceCycles;
  }

  /** The request in flight is done: returns its task. */
  complete(): Task {
    this.completionAt = Infinity;
    this.completed++;
    return this.queue.shift()!;
  }
}
