import { describe, expect, it } from 'vitest';
import { MODES_2007 as MODES, resolveConfig, type SimConfig } from '../../shared/config.js';
import type { RunResult } from '../../shared/stats.js';
import { simulate } from '../../worker/vm.js';

const run = (o: Partial<SimConfig>): RunResult => simulate(resolveConfig(o));
const exitCount = (r: RunResult, reason: string) => r.exits.byReason[reason as keyof RunResult['exits']['byReason']]?.count ?? 0;

describe('ctxswitch, 2 tasks: counts that follow from the guest, by hand', () => {
  // The statistics count the timed passes, from the first process's read that ends the
  // warm-up to its read that ends the last pass. A pass: the first process writes the token
  // and enters read (it sleeps), a switch and a cr3 load to the other, whose read returns;
  // it writes and enters read, a switch and a cr3 load back. 3000 passes last longer than
  // benchmp's 4.75 ms in every mode, so exactly 3000 are timed: 6000 switches, as many cr3
  // loads and messages, 4 system calls a pass. HZ 100: a task's 100 ms slice that runs out
  // has no one else runnable to switch to.
  for (const mode of MODES) {
    it(`${mode}: 6000 switches, 6000 cr3 loads, 6000 messages, 12000 syscalls`, () => {
      const r = run({ mode, workload: 'ctxswitch', tasks: 2, loops: 3000, hz: 100 });
      expect(r.guest.contextSwitches).toBe(6000);
      expect(r.guest.addressSpaceSwitches).toBe(6000);
      expect(r.guest.messages).toBe(6000);
      expect(r.guest.syscalls).toBe(12000);
    });
  }

  it('kvm-trunk: every cr3 load exits, and nothing else reads or writes cr3 in the timed passes', () => {
    const r = run({ mode: 'kvm-trunk', workload: 'ctxswitch', tasks: 2, loops: 3000, hz: 100 });
    expect(exitCount(r, 'CR_ACCESS')).toBe(6000);
  });

  it('kvm-paravirt: once warmed up a switch costs no CR_ACCESS exit: every cr3 load hits the cache', () => {
    const r = run({ mode: 'kvm-paravirt', workload: 'ctxswitch', tasks: 2, loops: 3000, hz: 100 });
    expect(exitCount(r, 'CR_ACCESS')).toBe(0);
    expect(r.cr3Cache).toEqual({ size: 4, lookups: 6000, hits: 6000, misses: 0, fills: 0, evictions: 0 });
  });

  // The fewest loops a shipped experiment gives ctxswitch is 50 (cr3-cache-sweep's 400-task
  // ring), pipe's 2000 (smp-quantum): ten times that moves a figure by under 2%.
  it('a figure that does not move with the loops timed (benchmp\'s warm-up and its shortest interval)', () => {
    for (const mode of ['native', 'kvm-trunk', 'kvm-paravirt'] as const) {
      const at = (loops: number) => run({ mode, workload: 'ctxswitch', tasks: 2, loops }).metric.value;
      const short = at(50);
      expect(Math.abs(at(500) / short - 1), mode).toBeLessThan(0.02);
    }
    for (const mode of ['native', 'kvm-paravirt'] as const) {
      const at = (loops: number) => run({ mode, workload: 'pipe', loops }).metric.value;
      expect(Math.abs(at(20000) / at(2000) - 1), `pipe ${mode}`).toBeLessThan(0.02);
    }
  });
});

describe('timer tick through the i8259A', () => {
  // mask_and_ack_8259A (arch/i386/kernel/i8259.c, v2.6.20): a dummy IMR read, the IMR write
  // that masks IRQ0, the specific EOI; end_8259A_irq then writes the IMR again to unmask.
  // The TSC clocksource reads no port; the PIT one (pit_read, arch/i386/kernel/i8253.c)
  // latches with outb_p and reads two bytes with inb_p, each _p adding a port-0x80 write.
  it('unpatched, TSC clocksource: read, mask, EOI, unmask: four port exits a tick', () => {
    const r = run({ mode: 'kvm-trunk', workload: 'ctxswitch', tasks: 2, loops: 2000 });
    const t = r.guest.timerTicks;
    expect(t).toBeGreaterThan(5);
    expect(r.pic).toEqual({ portReads: t, portWrites: 3 * t, irqsDelivered: t });
    expect(r.guest.ioDelayWrites).toBe(0);
    expect(exitCount(r, 'IO_INSTRUCTION')).toBe(4 * t);
    // QEMU's 1024 Hz host alarm kicks the running guest out (the PIT's edge is seen in that
    // pass): one EXTERNAL_INTERRUPT exit every 1/1024 s of the run, a few more than ticks.
    expect(exitCount(r, 'EXTERNAL_INTERRUPT')).toBe(Math.floor((r.guestTimeNs * 1024) / 1e9));
    expect(exitCount(r, 'EXTERNAL_INTERRUPT')).toBeGreaterThan(t);
  });

  it('unpatched, PIT clocksource: four PIC accesses, three PIT accesses, three io delays: ten port exits a tick', () => {
    const r = run({ mode: 'kvm-trunk', workload: 'ctxswitch', tasks: 2, loops: 2000, clocksource: 'pit' });
    const t = r.guest.timerTicks;
    expect(t).toBeGreaterThan(5);
    expect(r.pic).toEqual({ portReads: t, portWrites: 3 * t, irqsDelivered: t });
    expect(r.guest.ioDelayWrites).toBe(3 * t);
    expect(exitCount(r, 'IO_INSTRUCTION')).toBe(10 * t);
  });

  it('a UP kernel with a local APIC: its timer ticks beside IRQ0, each tick one EOI, an MMIO exit to QEMU', () => {
    const r = run({ mode: 'kvm-trunk', workload: 'ctxswitch', tasks: 2, loops: 2000, lapicTimer: true });
    const t = r.guest.timerTicks;
    expect(t).toBeGreaterThan(5);
    expect(exitCount(r, 'IO_INSTRUCTION')).toBe(4 * t);
    // Both timers at HZ on the host alarm's grid: as many APIC ticks as IRQ0 ticks, within one.
    expect(Math.abs(exitCount(r, 'EXCEPTION_NMI') - t)).toBeLessThanOrEqual(1);
    const off = run({ mode: 'kvm-trunk', workload: 'ctxswitch', tasks: 2, loops: 2000 });
    expect(exitCount(off, 'EXCEPTION_NMI')).toBe(0);
  });

  it('paravirt: mask_and_ack_kvm keeps the mask cached (no read), writes IMR and EOI, unmasks after; io delays exit-free', () => {
    const tsc = run({ mode: 'kvm-paravirt', workload: 'ctxswitch', tasks: 2, loops: 2000 });
    const t = tsc.guest.timerTicks;
    expect(t).toBeGreaterThan(1);
    expect(tsc.pic).toEqual({ portReads: 0, portWrites: 3 * t, irqsDelivered: t });
    expect(tsc.guest.ioDelayWrites).toBe(0);
    expect(exitCount(tsc, 'IO_INSTRUCTION')).toBe(3 * t);
    const pit = run({ mode: 'kvm-paravirt', workload: 'ctxswitch', tasks: 2, loops: 2000, clocksource: 'pit' });
    const tp = pit.guest.timerTicks;
    expect(pit.guest.ioDelayWrites).toBe(0);
    expect(exitCount(pit, 'IO_INSTRUCTION')).toBe(6 * tp);
  });
});

describe('the published 2-task row, before calibration', () => {
  const published: Record<string, number> = {
    native: 1.11,
    qemu: 61.18,
    'kvm-upstream': 53.01,
    'kvm-trunk': 6.36,
    'kvm-paravirt': 1.6,
  };
  const us = Object.fromEntries(MODES.map((mode) => [mode, run({ mode, workload: 'ctxswitch', tasks: 2, loops: 3000 }).metric.value]));

  it('orders native < kvm-paravirt < kvm-trunk < kvm-upstream, qemu far above native', () => {
    expect(us.native).toBeLessThan(us['kvm-paravirt']!);
    expect(us['kvm-paravirt']).toBeLessThan(us['kvm-trunk']!);
    expect(us['kvm-trunk']).toBeLessThan(us['kvm-upstream']!);
    expect(us.qemu).toBeGreaterThan(10 * us.native!);
  });

  for (const mode of MODES) {
    it(`${mode} is within a factor of 2 of ${published[mode]} us`, () => {
      const ratio = us[mode]! / published[mode]!;
      expect(ratio).toBeGreaterThan(0.5);
      expect(ratio).toBeLessThan(2);
    });
  }
});

describe('hackbench', () => {
  it('sends exactly 40,000 messages per group (plus the one-byte "go")', () => {
    const r = run({ mode: 'native', workload: 'hackbench', groups: 2 });
    expect(r.config.tasks).toBe(80);
    expect(r.guest.messages).toBe(2 * 40000 + 1);
    // Each of the 80 children: its 2,000 reads or writes and an exit (the poll it sleeps in
    // was entered before the run); the parent: the go write, 80 waits, its exit.
    expect(r.guest.syscalls).toBe(80 * (2000 + 1) + 1 + 80 + 1);
  });

  it('thread mode makes almost no address-space switches; process mode makes many', () => {
    const threads = run({ mode: 'kvm-trunk', workload: 'hackbench', groups: 1, thread: true });
    const procs = run({ mode: 'kvm-trunk', workload: 'hackbench', groups: 1 });
    expect(threads.guest.contextSwitches).toBeGreaterThan(100);
    expect(threads.guest.addressSpaceSwitches).toBeLessThanOrEqual(2);
    expect(procs.guest.contextSwitches).toBeGreaterThan(100);
    // Every switch but those to and from the idle task loads another address space.
    expect(procs.guest.addressSpaceSwitches).toBeGreaterThan(0.9 * procs.guest.contextSwitches);
  });

  it('with 200 tasks the 4-entry cr3 cache mostly misses; 64 entries hold them (their 256 PAE roots pinned: the published 2048-page pool)', () => {
    const small = run({ mode: 'kvm-paravirt', workload: 'hackbench', groups: 5, cacheSize: 4, mmuPages: 2048 });
    const large = run({ mode: 'kvm-paravirt', workload: 'hackbench', groups: 5, cacheSize: 64, mmuPages: 2048 });
    const rate = (r: RunResult) => r.cr3Cache.hits / r.cr3Cache.lookups;
    expect(rate(small)).toBeLessThan(0.5);
    expect(rate(large)).toBeGreaterThan(0.9);
    expect(exitCount(large, 'CR_ACCESS')).toBeLessThan(exitCount(small, 'CR_ACCESS') / 10);
  });
});

describe('determinism', () => {
  it('the same config and seed give identical statistics', () => {
    const cfg = { mode: 'kvm-paravirt' as const, workload: 'hackbench' as const, groups: 1, seed: 42 };
    expect(JSON.stringify(run(cfg))).toBe(JSON.stringify(run(cfg)));
  });

  it('the seed changes where the guest puts its pages, and so its TLB misses', () => {
    const a = run({ mode: 'native', workload: 'hackbench', groups: 1, seed: 1 });
    const b = run({ mode: 'native', workload: 'hackbench', groups: 1, seed: 2 });
    expect(a.tlb.misses).not.toBe(b.tlb.misses);
  });
});
