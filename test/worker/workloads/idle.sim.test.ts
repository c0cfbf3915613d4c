import { describe, expect, it } from 'vitest';
import { resolveConfig, type SimConfig } from '../../../shared/config.js';
import type { RunResult } from '../../../shared/stats.js';
import { simulate } from '../../../worker/vm.js';

const run = (o: Partial<SimConfig>): RunResult => simulate(resolveConfig({ workload: 'idle', loops: 200, hz: 1000, ...o }));
const perTick = (r: RunResult, reason: keyof RunResult['exits']['byReason']) => (r.exits.byReason[reason]?.count ?? 0) / r.guest.timerTicks;

describe('idle guest (HLT, HZ=1000)', () => {
  const trunk = run({ mode: 'kvm-trunk' });
  const pv = run({ mode: 'kvm-paravirt' });
  const native = run({ mode: 'native' });

  it('wakes once per tick and halts again', () => {
    expect(trunk.guest.timerTicks).toBeGreaterThanOrEqual(200);
    expect(trunk.guest.timerTicks).toBeLessThanOrEqual(202);
    expect(perTick(trunk, 'HLT')).toBeCloseTo(1, 1);
  });

  it('TSC clocksource: unpatched 4 port exits a tick (IMR read, mask, EOI, unmask); paravirt 3 (no read)', () => {
    // The first tick comes before the sleeper has gone to sleep; all others find the vCPU halted.
    expect(trunk.exits.byReason.IO_INSTRUCTION!.count).toBe(4 * trunk.guest.timerTicks);
    expect(pv.exits.byReason.IO_INSTRUCTION!.count).toBe(3 * pv.guest.timerTicks);
  });

  it('PIT clocksource: unpatched 10 (4 PIC, 3 PIT, 3 io delays); paravirt 6 (3 PIC, 3 PIT)', () => {
    const t = run({ mode: 'kvm-trunk', clocksource: 'pit' });
    const p = run({ mode: 'kvm-paravirt', clocksource: 'pit' });
    expect(t.exits.byReason.IO_INSTRUCTION!.count).toBe(10 * t.guest.timerTicks);
    expect(p.exits.byReason.IO_INSTRUCTION!.count).toBe(6 * p.guest.timerTicks);
    // Reading the PIT costs the host more than reading the TSC.
    expect(t.metric.value).toBeGreaterThan(trunk.metric.value);
  });

  it('acpi_pm clocksource: three 32-bit reads of the PM timer a tick, each a port exit', () => {
    const a = run({ mode: 'kvm-trunk', clocksource: 'acpi_pm' });
    expect(a.exits.byReason.IO_INSTRUCTION!.count).toBe(7 * a.guest.timerTicks);
  });

  it('costs the host less CPU with the paravirt simplifications, and native least', () => {
    expect(pv.metric.value).toBeLessThan(trunk.metric.value);
    expect(native.metric.value).toBeLessThan(pv.metric.value);
    expect(trunk.metric.value).toBeGreaterThan(1);
    expect(trunk.metric.value).toBeLessThan(50);
  });
});

describe('the host work of a guest tick that the patch leaves alone', () => {
  // Per tick, in the qemu and KVM modes alike: QEMU's main-loop pass for its timer (the
  // host signal, select, qemu_run_timers, the PIT and PIC callbacks), then the injection.
  // Adding D cycles to that pass adds D a tick to the host's busy time: over 200 ms at
  // HZ=1000 on a 2.13 GHz host, 100 x 200 x D / (0.2 x 2.13e9) = 4.69 points for D = 1e5.
  const D = 100000;
  const cfg = (mode: SimConfig['mode']) => resolveConfig({ workload: 'idle', loops: 200, hz: 1000, mode });
  for (const mode of ['qemu', 'kvm-upstream', 'kvm-trunk', 'kvm-paravirt'] as const) {
    it(`${mode}: one QEMU main-loop pass a tick, halted or not`, () => {
      const a = simulate(cfg(mode), { qemuTimerEvent: 5000 });
      const b = simulate(cfg(mode), { qemuTimerEvent: 5000 + D });
      expect(b.metric.value - a.metric.value).toBeCloseTo(4.69, 1);
    });
  }
  it('native: no QEMU, so the pass costs nothing', () => {
    expect(simulate(cfg('native'), { qemuTimerEvent: 5000 + D }).metric.value).toBe(simulate(cfg('native'), { qemuTimerEvent: 5000 }).metric.value);
  });
});

describe('QEMU’s host alarm (/dev/rtc at 1024 Hz, whatever the guest’s HZ)', () => {
  const cfg = (mode: SimConfig['mode'], hz: number) => resolveConfig({ workload: 'idle', loops: 200, hz, mode });
  it('costs the host a main-loop pass 1024 times a second, at HZ=250 as at 1000', () => {
    // 200 ms: 204 alarms (the one at 200 ms falls after the sleeper's wake-up);
    // 100 x 204 x 1e5 / (0.2 x 2.13e9) = 4.79 points.
    for (const hz of [250, 1000]) {
      const a = simulate(cfg('kvm-trunk', hz), { qemuAlarm: 3500 });
      const b = simulate(cfg('kvm-trunk', hz), { qemuAlarm: 3500 + 1e5 });
      expect(b.metric.value - a.metric.value).toBeCloseTo(4.79, 1);
    }
  });

  it('does not wake a halted guest: one HLT exit a guest tick, and none of the alarm’s EXTERNAL_INTERRUPT exits while halted', () => {
    const r = simulate(cfg('kvm-trunk', 250));
    expect(r.guest.timerTicks).toBe(50);
    expect(r.exits.byReason.HLT!.count).toBe(r.guest.timerTicks);
    expect(r.exits.byReason.EXTERNAL_INTERRUPT?.count ?? 0).toBeLessThanOrEqual(1);
  });

});
