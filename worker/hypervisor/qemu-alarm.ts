/**
 * QEMU's host alarm timer (vl.c init_timer_alarm, kvm-12 = QEMU 0.8.2 + kvm; the same
 * through kvm-15 = QEMU 0.9.0): on Linux it opens /dev/rtc and asks for periodic
 * interrupts at RTC_FREQ = 1024 Hz, delivered to QEMU as SIGIO (host_alarm_handler),
 * whatever the guest's HZ. Each one ends the vCPU's run: under KVM the host's rtc
 * interrupt is an EXTERNAL_INTERRUPT exit after which KVM_RUN finds the signal pending and
 * returns -EINTR; under the qemu mode cpu_interrupt(CPU_INTERRUPT_EXIT) leaves the
 * translated code. QEMU's main loop then runs (main_loop_wait: select(), qemu_run_timers),
 * and only there do the guest's device timers fire: so the PIT's edges reach the guest
 * on this alarm's grid (machine/devices/pit.ts `grid`). With the vCPU in HLT, QEMU sits in
 * select() and the alarm wakes it there, without waking the guest.
 *
 * Not modelled: the host kernel's own timer interrupts (an EXTERNAL_INTERRUPT exit the
 * kernel handles without returning to QEMU).
 */
import { PRIO_DEVICE, type EventSlot } from '../machine/events.js';
import type { Vcpu } from '../machine/vcpu.js';

/** RTC_FREQ of vl.c: the rate QEMU sets with RTC_IRQP_SET. */
export const QEMU_RTC_FREQ = 1024;

export class QemuHostAlarm {
  private next = Infinity;
  private readonly slot: EventSlot;

  /**
   * @param v the vCPU QEMU's main loop runs (the PIT's)
   * @param period cycles between two alarms
   * @param pass what one alarm costs the host (the platform's `hostAlarm`)
   */
  constructor(
    v: Vcpu,
    readonly period: number,
    private readonly pass: (v: Vcpu, wasHalted: boolean) => void,
  ) {
    this.slot = v.events.register('qemu-alarm', PRIO_DEVICE, this);
  }

  /** Start at cycle `now`: alarms at every multiple of the period after it (the PIT's grid too). */
  start(now: number): void {
    this.next = (Math.floor(now / this.period) + 1) * this.period;
    this.slot.set(this.next);
  }

  fire(v: Vcpu, wasHalted: boolean): void {
    this.pass(v, wasHalted);
    do this.next += this.period;
    while (this.next <= v.clock);
    this.slot.set(this.next);
  }
}
