/**
 * The primary IDE channel as QEMU 0.8/0.9 emulates it (hw/ide.c, PIIX bus-master DMA):
 * the command block at 0x1F0-0x1F7, the bus-master registers at BAR4 (0xC000 as QEMU
 * places them), one disk, ISA IRQ14 (the slave i8259A's line 6). A request is a DMA read:
 * the driver programs the PRD table address and the task file, writes READ DMA, and
 * starts the bus master (BMDMA_COMMAND bit 0); the transfer is done `serviceCycles`
 * later (QEMU serving the read from the host), and the device raises IRQ14.
 *
 * Only what makes exits and latency is modelled: every port access (each an exit to user
 * space under KVM) and one transfer in flight at a time. Register contents are not: reads
 * give 0.
 */
import { PRIO_DEVICE, type EventSlot } from '../events.js';
import type { IoBus, IoDevice } from '../io-bus.js';
import type { Vcpu } from '../vcpu.js';

export const IDE_IRQ = 14;
/** Command block registers (ATA): data, error/features, sector count, LBA 0-2, drive, status/command. */
export const IDE_PORT_BASE = 0x1f0;
export const IDE_STATUS = 0x1f7;
export const IDE_COMMAND = 0x1f7;
/** PIIX bus-master IDE registers for the primary channel. */
export const BMDMA_COMMAND = 0xc000;
export const BMDMA_STATUS = 0xc002;
export const BMDMA_PRD = 0xc004;
export const ATA_CMD_READ_DMA = 0xc8;
/** BMDMA_COMMAND: start/stop bus master. */
const BM_START = 0x01;

export class IdeController implements IoDevice {
  /** Cycle at which the transfer in flight completes (Infinity when idle). */
  completionAt = Infinity;
  private readonly slot: EventSlot;

  /**
   * @param cpu the vCPU the PIC delivers IRQ14 to
   * @param raise raises ISA IRQ `IDE_IRQ`
   */
  constructor(
    bus: IoBus,
    cpu: Vcpu,
    readonly serviceCycles: number,
    private readonly raise: (v: Vcpu, wasHalted: boolean) => void,
  ) {
    bus.register(this, IDE_PORT_BASE, 8);
    bus.register(this, BMDMA_COMMAND, 8);
    this.slot = cpu.events.register('ide', PRIO_DEVICE, this);
  }

  get busy(): boolean {
    return this.completionAt !== Infinity;
  }

  portRead(): number {
    return 0;
  }

  portWrite(port: number, value: number, now: number): void {
    if (port === BMDMA_COMMAND && (value & BM_START) !== 0 && !this.busy) {
      this.completionAt = now + this.serviceCycles;
      this.slot.set(this.completionAt);
    }
  }

  /** The slot's event (EventSource): the transfer is done, the bus master stops and IRQ14 is raised. */
  fire(v: Vcpu, wasHalted: boolean): void {
    this.completionAt = Infinity;
    this.raise(v, wasHalted);
  }
}
