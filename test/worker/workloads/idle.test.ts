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

  it('unpatched: 10 port exits a tick (4 PIC, 3 PIT, 3 io delays); paravirt: 4 (1 EOI, 3 PIT)', () => {
    // The first tick comes before the sleeper has gone to sleep; all others find the vCPU halted.
    expect(trunk.exits.byReason.IO_INSTRUCTION!.count).toBe(10 * trunk.guest.timerTicks);
    expect(pv.exits.byReason.IO_INSTRUCTION!.count).toBe(4 * pv.guest.timerTicks);
  });

  it('costs the host less CPU with the paravirt simplifications, and native least', () => {
    expect(pv.metric.value).toBeLessThan(trunk.metric.value);
    expect(native.metric.value).toBeLessThan(pv.metric.value);
    expect(trunk.metric.value).toBeGreaterThan(1);
    expect(trunk.metric.value).toBeLessThan(50);
  });
});
