/**
 * The ACPI power-management timer of the PIIX4 PM function QEMU emulates (hw/acpi.c:
 * device 8086:7113, revision 0, PM base 0xb000, the timer at offset 8): a 24-bit counter
 * at 3.579545 MHz, read with inl. Only the timer is modelled; its value follows the
 * reading vCPU's clock.
 */
import type { IoBus, IoDevice } from '../io-bus.js';

/** PM_IO_BASE + 8: the PM timer register. */
export const ACPI_PM_TMR = 0xb008;
/** PMTMR_TICKS_PER_SEC: the counter's rate. */
const PMTMR_HZ = 3579545;
const MASK_24 = 0xffffff;

export class AcpiPmTimer implements IoDevice {
  constructor(
    bus: IoBus,
    /** The vCPUs' clock rate, to turn a cycle into the counter's value. */
    private readonly clockHz: number,
  ) {
    bus.register(this, ACPI_PM_TMR, 4);
  }

  portRead(port: number, now: number): number {
    if (port !== ACPI_PM_TMR) return 0;
    return Math.floor((now * PMTMR_HZ) / this.clockHz) & MASK_24;
  }

  portWrite(): void {}
}
