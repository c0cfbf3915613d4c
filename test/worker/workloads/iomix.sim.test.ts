import { describe, expect, it } from 'vitest';
import { resolveConfig, type SimConfig } from '../../../shared/config.js';
import type { RunResult } from '../../../shared/stats.js';
import { simulate } from '../../../worker/vm.js';

const run = (o: Partial<SimConfig>): RunResult => simulate(resolveConfig({ workload: 'iomix', loops: 200, hz: 100, ...o }));

describe('iomix: context switches mixed with disk reads', () => {
  it('each read is 11 port writes to start the DMA, and IRQ14 through the slave PIC with 4 IDE port accesses', () => {
    const r = run({ mode: 'kvm-trunk', io: 1 });
    const reads = 2 * 200;
    const ticks = r.guest.timerTicks;
    // Slave IRQ ack (2.6.20): dummy slave IMR read, slave mask, slave EOI, master EOI; then unmask.
    expect(r.pic).toEqual({ portReads: reads + ticks, portWrites: 4 * reads + 3 * ticks, irqsDelivered: reads + ticks });
    // Per read: 11 (start) + 4 (ide_dma_intr) + 5 (PIC); per tick (TSC clocksource): 4 (PIC).
    expect(r.exits.byReason.IO_INSTRUCTION!.count).toBe(20 * reads + 4 * ticks);
  });

  it('paravirt: mask_and_ack_kvm acks IRQ14 with the slave mask cached: slave IMR, two EOIs, unmask', () => {
    const r = run({ mode: 'kvm-paravirt', io: 1 });
    const reads = 2 * 200;
    const ticks = r.guest.timerTicks;
    expect(r.pic).toEqual({ portReads: 0, portWrites: 4 * reads + 3 * ticks, irqsDelivered: reads + ticks });
    expect(r.exits.byReason.IO_INSTRUCTION!.count).toBe(19 * reads + 3 * ticks);
  });

  it('the paravirt gain over kvm-trunk shrinks as I/O grows', () => {
    const gain = (io: number) => {
      const t = run({ mode: 'kvm-trunk', io }).metric.value;
      const p = run({ mode: 'kvm-paravirt', io }).metric.value;
      return (t - p) / t;
    };
    const g0 = gain(0);
    const g1 = gain(1);
    const g4 = gain(4);
    expect(g0).toBeGreaterThan(0.3);
    expect(g1).toBeLessThan(g0 / 2);
    expect(g4).toBeLessThanOrEqual(g1 + 0.02);
    expect(g4).toBeGreaterThan(0);
  });
});
