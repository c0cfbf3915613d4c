/**
 * The block layer and the IDE driver, reduced to one path: a read of one block that
 * misses the page cache. The request is queued (generic_make_request, the elevator),
 * the driver starts a DMA read if the drive is idle (ide_do_request -> ide_dma_setup,
 * ide_do_rw_disk, ide_dma_start) and the task sleeps (io_schedule, uninterruptible: no
 * interactivity credit) until IRQ14 (ide_dma_intr), which wakes it and starts the next.
 */
import type { Costs } from '../../../shared/costs.js';
import {
  ATA_CMD_READ_DMA,
  BMDMA_COMMAND,
  BMDMA_PRD,
  BMDMA_STATUS,
  IDE_COMMAND,
  IDE_IRQ,
  IDE_PORT_BASE,
  IDE_STATUS,
} from '../../machine/devices/ide.js';
import type { GuestCpu } from '../cpu.js';
import type { SyscallEntry } from '../entry.js';
import { WaitQueue } from '../ipc/wait.js';
import type { PortIo } from '../io.js';
import type { Irq } from '../irq/irq.js';
import { KTEXT } from '../layout.js';
import type { Scheduler } from '../sched/core.js';
import type { Task } from '../task.js';

export class IdeDriver {
  /** Requests waiting for the drive, oldest first; the head is in flight. */
  private readonly queue: Task[] = [];
  /** hwgroup->busy: a transfer is in flight. */
  private busy = false;
  /** Where readers sleep until their request completes. */
  private readonly wait = new WaitQueue<Task>();

  constructor(
    private readonly irq: Irq,
    private readonly sched: Scheduler,
    private readonly entry: SyscallEntry,
    private readonly c: Costs,
  ) {}

  /** ide_setup_pci_device's request_irq: IRQ14 (through `io`, at boot). */
  boot(io: PortIo): void {
    this.irq.requestIsaIrq(io, IDE_IRQ, (cpu) => this.interrupt(cpu));
  }

  /** A read of one block that misses the page cache; true once it has completed. */
  read(cpu: GuestCpu, t: Task): boolean {
    this.entry.enter(cpu, t);
    if (t.ioDone) {
      t.ioDone = false;
      return true;
    }
    cpu.work(this.c.blockIo);
    cpu.touch(KTEXT.block);
    this.queue.push(t);
    if (!this.busy) this.startDma(cpu);
    this.sched.sleepOn(t, this.wait, true);
    return false;
  }

  /**
   * ide_dma_setup + ide_do_rw_disk + ide_dma_start: PRD table address, bus-master stop
   * and status clear, the LBA28 task file (features, count, 3 x LBA, drive), the READ DMA
   * command, bus-master start: 11 port writes.
   */
  private startDma(cpu: GuestCpu): void {
    const io = cpu.io;
    io.outb(BMDMA_PRD, 0);
    io.outb(BMDMA_COMMAND, 0);
    io.outb(BMDMA_STATUS, 0x06);
    for (let reg = 1; reg <= 6; reg++) io.outb(IDE_PORT_BASE + reg, 0);
    io.outb(IDE_COMMAND, ATA_CMD_READ_DMA);
    io.outb(BMDMA_COMMAND, 0x09);
    this.busy = true;
  }

  /**
   * IRQ14 from the disk, through the slave i8259A: the ack sequence (slave and master
   * EOIs), ide_dma_intr (status, bus-master status and stop: 2 reads, 2 writes), the
   * waiting task woken, the next request started, the line unmasked.
   */
  private interrupt(cpu: GuestCpu): void {
    const io = cpu.io;
    this.irq.entry(cpu);
    this.irq.ack(cpu, IDE_IRQ);
    cpu.touch(KTEXT.block);
    io.inb(IDE_STATUS);
    io.inb(BMDMA_STATUS);
    io.outb(BMDMA_STATUS, 0x04);
    io.outb(BMDMA_COMMAND, 0);
    this.busy = false;
    const t = this.queue.shift()!;
    t.ioDone = true;
    this.wait.remove(t);
    this.sched.tryToWakeUp(cpu, t, false);
    if (this.queue.length > 0) this.startDma(cpu);
    this.irq.unmask(cpu, IDE_IRQ);
  }
}
