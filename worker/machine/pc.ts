/**
 * The machine a VM is: guest memory, the vCPUs with their local APICs, the I/O port bus
 * and the PC's devices on it, wired as on a PC/AT: the i8254 PIT on ISA IRQ0 and the
 * primary IDE channel on IRQ14, both through the i8259A pair, whose INT output goes to
 * vCPU 0; and the PIIX4's ACPI PM timer. Adding a device is a file in devices/ and a line here: it registers its ports
 * on the bus and its timed events on the vCPU it interrupts, and raises its ISA line.
 */
import type { StatsRegistry } from '../../shared/stats.js';
import { AcpiPmTimer } from './devices/acpi-pm.js';
import { IdeController, IDE_IRQ } from './devices/ide.js';
import { PicPair } from './devices/i8259.js';
import { Pit } from './devices/pit.js';
import { IoBus } from './io-bus.js';
import { LocalApic } from './lapic.js';
import { GuestMemory } from './memory.js';
import { FROM_DEVICE, Vcpu } from './vcpu.js';
import { PageWalker } from './walker.js';

export interface PcOptions {
  readonly frames: number;
  readonly vcpus: number;
  /** TLB geometry the vCPUs show the guest (the hardware's, or QEMU's soft TLB). */
  readonly tlbEntries: number;
  readonly tlbWays: number;
  /** CR3-target values of each vCPU's VMCS. */
  readonly cr3Targets: number;
  /** The second TLB level behind the first (a core of today), or null. */
  readonly stlb?: { readonly entries: number; readonly ways: number; readonly hit: number } | null;
  /** The page walker of a core of today, or null. */
  readonly walker?: { readonly levels: number; readonly hostLevels: number; readonly entries: number } | null;
  /** Cycles the disk takes to serve a DMA read. */
  readonly diskServiceCycles: number;
  /** The vCPUs' clock rate (for the ACPI PM timer's count). */
  readonly clockHz: number;
  readonly stats: StatsRegistry;
}

export class Pc {
  readonly mem: GuestMemory;
  readonly vcpus: readonly Vcpu[];
  readonly lapics: readonly LocalApic[];
  readonly bus = new IoBus();
  readonly pic: PicPair;
  readonly pit: Pit;
  readonly ide: IdeController;
  readonly acpiPm: AcpiPmTimer;
  /**
   * A vCPU that never runs guest code: what the guest does at boot through it (the
   * i8259A's initialisation) costs nothing the measured run sees.
   */
  readonly bootVcpu: Vcpu;

  constructor(o: PcOptions) {
    this.mem = new GuestMemory(o.frames);
    this.vcpus = Array.from({ length: o.vcpus }, (_, id) => new Vcpu(id, o.tlbEntries, o.tlbWays, o.cr3Targets, o.stats.vcpu(id).tlb));
    this.lapics = this.vcpus.map((v) => new LocalApic(v));
    for (const v of this.vcpus) {
      const walk = o.stats.vcpu(v.id).walk;
      if (o.stlb) v.tlb.addSecondLevel(o.stlb.entries, o.stlb.ways, o.stlb.hit, v, walk);
      if (o.walker) v.walker = new PageWalker(o.walker.levels, o.walker.hostLevels, o.walker.entries, walk);
    }
    this.bootVcpu = new Vcpu(-1, o.tlbEntries, o.tlbWays, o.cr3Targets);
    this.pic = new PicPair(o.stats.vm.pic);
    this.pic.attach(this.bus);
    const cpu0 = this.vcpus[0]!;
    this.ide = new IdeController(this.bus, cpu0, o.diskServiceCycles, (v, wasHalted) => this.raiseIsaIrq(IDE_IRQ, v, wasHalted));
    this.pit = new Pit(this.bus, cpu0, this);
    this.acpiPm = new AcpiPmTimer(this.bus, o.clockHz);
  }

  /**
   * An edge on ISA line `irq`: the i8259A latches it, and if it then asserts INT the CPU
   * (vCPU `v`, the PIC's) runs the INTA cycle and takes the vector the PIC answers.
   */
  raiseIsaIrq(irq: number, v: Vcpu, wasHalted: boolean, from = FROM_DEVICE): void {
    const pic = this.pic;
    pic.pulseIrq(irq);
    if (!pic.hasInterrupt()) return;
    v.interrupt(v, pic.acknowledge(), from, wasHalted);
  }

  /** The measured run starts at cycle 0 on every vCPU: clocks and exit counts restart, and so do the timers. */
  startMeasuredRun(): void {
    for (const v of this.vcpus) v.resetClock();
    this.pit.start(0);
    for (const a of this.lapics) a.start(0);
  }
}
