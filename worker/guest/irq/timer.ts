/**
 * Time in the guest: the tick and kernel timers. On CPU 0 the tick is IRQ0 from the PIT
 * through the i8259A (arch/i386/kernel/time.c timer_interrupt): acknowledged with
 * mask_and_ack_8259A (or the paravirt ack), do_timer's update_wall_time reads the
 * clocksource once (kernel/timer.c), the line is unmasked after the handler. The other CPUs
 * take their local APIC timer (smp_apic_timer_interrupt; its EOI is not modelled). Both
 * run the expired kernel timers (run_timer_softirq) and scheduler_tick. nanosleep sleeps
 * on a jiffies-based timer (2.6.20's timer wheel): the task wakes on the first tick of
 * its CPU at or after the expiry.
 */
import type { Costs } from '../../../shared/costs.js';
import { ACPI_PM_TMR } from '../../machine/devices/acpi-pm.js';
import { PIT_CH0, PIT_IRQ, PIT_MODE, type Pit } from '../../machine/devices/pit.js';
import type { GuestCpu } from '../cpu.js';
import type { SyscallEntry } from '../entry.js';
import { inbP, outbP, type PortIo, type PortIoLong } from '../io.js';
import { KDATA_GLOBAL, KTEXT } from '../layout.js';
import type { Scheduler } from '../sched/core.js';
import type { Task } from '../task.js';
import type { Irq } from './irq.js';
import { LOCAL_TIMER_VECTOR } from './vectors.js';

/** The clocksources a 2.6.20 i386 guest can read (kernel/time/clocksource.c picks by rating). */
export type Clocksource = 'tsc' | 'acpi_pm' | 'pit';

const ACPI_PM_MASK = 0xffffff;

export class GuestTime {
  /** Cycles per tick (1 / HZ). */
  readonly tickCycles: number;
  private readonly nsPerCycle: number;

  constructor(
    private readonly cpus: readonly GuestCpu[],
    private readonly irq: Irq,
    private readonly sched: Scheduler,
    private readonly entry: SyscallEntry,
    private readonly c: Costs,
    hz: number,
    private readonly clocksource: Clocksource,
    /**
     * An x86-64 kernel of today: the local APIC timer in TSC-deadline mode on every CPU
     * (the PIT only calibrates it), its EOI and its re-arm for the next tick
     * (lapic_next_deadline) a WRMSR each.
     */
    private readonly lapicEverywhere = false,
    /**
     * The i386 guest is a UP kernel with a local APIC (X86_UP_APIC): its APIC timer ticks
     * beside IRQ0 (APIC_init_uniprocessor, setup_boot_APIC_clock), profile_tick alone on it
     * (smp_local_timer_interrupt), and each tick of every APIC timer ends in an EOI
     * (ack_APIC_irq: one store, apic.c).
     */
    private readonly upApic = false,
  ) {
    this.tickCycles = Math.round(c.clockHz / hz);
    this.nsPerCycle = 1e9 / c.clockHz;
  }

  /**
   * time_init and the APIC timers' set-up: the PIT programmed for HZ and IRQ0 claimed
   * (through `io`, at boot); every other CPU's local APIC timer at HZ.
   */
  boot(io: PortIo, pit: Pit): void {
    if (this.lapicEverywhere) {
      this.irq.setVector(LOCAL_TIMER_VECTOR, (cpu) => this.apicTimerInterrupt(cpu));
      for (const cpu of this.cpus) cpu.lapic.programTimer(LOCAL_TIMER_VECTOR, this.tickCycles);
      return;
    }
    pit.program(this.tickCycles);
    this.irq.requestIsaIrq(io, PIT_IRQ, (cpu) => this.timerInterrupt(cpu));
    this.irq.setVector(LOCAL_TIMER_VECTOR, (cpu) => (cpu.id === 0 ? this.upApicTimerInterrupt(cpu) : this.apicTimerInterrupt(cpu)));
    for (const cpu of this.cpus) if (cpu.id !== 0 || this.upApic) cpu.lapic.programTimer(LOCAL_TIMER_VECTOR, this.tickCycles);
  }

  /** A UP kernel's local APIC timer on CPU 0, beside IRQ0: the entry, profile_tick, the EOI. */
  private upApicTimerInterrupt(cpu: GuestCpu): void {
    this.irq.entry(cpu);
    cpu.touch(KTEXT.time);
    cpu.platform.apicEoi(cpu.vcpu);
  }

  /** IRQ0 on CPU 0. */
  private timerInterrupt(cpu: GuestCpu): void {
    const irq = this.irq;
    cpu.stat.timerTicks++;
    irq.entry(cpu);
    irq.ack(cpu, PIT_IRQ);
    cpu.work(this.c.timerTick);
    cpu.touch(KTEXT.time);
    cpu.touch(KDATA_GLOBAL);
    this.readClocksource(cpu.io);
    irq.unmask(cpu, PIT_IRQ);
    this.afterTick(cpu);
  }

  /**
   * update_wall_time's clocksource_read. read_tsc is one rdtsc, which does not exit under
   * KVM (no RDTSC exiting) and is folded into the tick's own cost. pit_read (i8253.c)
   * latches the count and reads its two bytes: outb_p + 2 x inb_p. acpi_pm: QEMU's PIIX4
   * PM is revision 0, so acpi_pm_check_blacklist makes the guest use
   * acpi_pm_read_verified: three inl of the PM timer, again until they are monotonic.
   */
  private readClocksource(io: PortIoLong): void {
    switch (this.clocksource) {
      case 'tsc':
        return;
      case 'pit':
        outbP(io, PIT_MODE, 0x00); // latch the count
        inbP(io, PIT_CH0);
        inbP(io, PIT_CH0);
        return;
      case 'acpi_pm': {
        let v1: number, v2: number, v3: number;
        do {
          v1 = io.inl(ACPI_PM_TMR) & ACPI_PM_MASK;
          v2 = io.inl(ACPI_PM_TMR) & ACPI_PM_MASK;
          v3 = io.inl(ACPI_PM_TMR) & ACPI_PM_MASK;
        } while ((v1 > v2 && v1 < v3) || (v2 > v3 && v2 < v1) || (v3 > v1 && v3 < v2));
        return;
      }
    }
  }

  /** The local APIC timer of CPUs 1 and up (of every CPU of an x86-64 kernel, with its EOI and re-arm). */
  private apicTimerInterrupt(cpu: GuestCpu): void {
    cpu.stat.timerTicks++;
    this.irq.entry(cpu);
    if (this.lapicEverywhere || this.upApic) cpu.platform.apicEoi(cpu.vcpu);
    cpu.work(this.c.timerTick);
    cpu.touch(KTEXT.time);
    if (this.lapicEverywhere) cpu.platform.armTimer(cpu.vcpu);
    this.afterTick(cpu);
  }

  private afterTick(cpu: GuestCpu): void {
    if (cpu.timers.length > 0) this.runTimers(cpu);
    this.sched.tick(cpu);
  }

  /** nanosleep: sleep for `ns` on a kernel timer. */
  sleep(cpu: GuestCpu, t: Task, ns: number): boolean {
    this.entry.enter(cpu, t);
    const now = cpu.vcpu.clock;
    if (t.wakeAt >= 0 && now >= t.wakeAt) {
      t.wakeAt = -1;
      return true;
    }
    t.wakeAt = now + Math.round(ns / this.nsPerCycle);
    cpu.timers.push(t);
    this.sched.sleepOn(t, cpu.timerWait);
    return false;
  }

  /** run_timer_softirq: wake the sleepers of this CPU whose time has come. */
  private runTimers(cpu: GuestCpu): void {
    const list = cpu.timers;
    for (let i = 0; i < list.length; i++) {
      const t = list[i]!;
      if (t.wakeAt > cpu.vcpu.clock) continue;
      list.splice(i--, 1);
      cpu.timerWait.remove(t);
      this.sched.tryToWakeUp(cpu, t, false);
    }
  }
}
