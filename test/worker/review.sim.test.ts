import { describe, expect, it } from 'vitest';
import { resolveConfig, type SimConfig } from '../../shared/config.js';
import type { RunResult } from '../../shared/stats.js';
import { simulate } from '../../worker/vm.js';

const run = (o: Partial<SimConfig>): RunResult => simulate(resolveConfig(o));

describe('pinned roots: a freed page directory reused as an ordinary page', () => {
  const rounds = 6;
  const unsafe = run({ mode: 'kvm-paravirt', workload: 'pgdreuse', loops: rounds, pinnedRootFix: 'none' });
  const unpin = run({ mode: 'kvm-paravirt', workload: 'pgdreuse', loops: rounds, pinnedRootFix: 'unpin-on-write' });
  const hypercall = run({ mode: 'kvm-paravirt', workload: 'pgdreuse', loops: rounds, pinnedRootFix: 'hypercall' });
  const trunk = run({ mode: 'kvm-trunk', workload: 'pgdreuse', loops: rounds });

  it('the checker finds stale translations with the patch as posted', () => {
    expect(unsafe.mmu.checks).toBeGreaterThan(rounds);
    expect(unsafe.mmu.staleTranslations).toBeGreaterThan(0);
    // The clearing stores can never zap the pinned root: every one of the 1024 traps.
    expect(unsafe.mmu.ptWritesEmulated).toBeGreaterThan(rounds * 1024);
  });

  it('finds none with either fix, nor without the cr3 cache', () => {
    expect(unpin.mmu.staleTranslations).toBe(0);
    expect(hypercall.mmu.staleTranslations).toBe(0);
    expect(trunk.mmu.staleTranslations).toBe(0);
    expect(unpin.mmu.checks).toBe(unsafe.mmu.checks);
  });

  it('the hypercall fix costs one VMCALL per freed page directory', () => {
    expect(hypercall.exits.byReason.VMCALL?.count).toBe(rounds);
    expect(unpin.exits.byReason.VMCALL).toBeUndefined();
    expect(hypercall.metric.value).toBeGreaterThan(unpin.metric.value);
  });
});

describe('global TLB entries: the exit flush, with and without', () => {
  const cfg = { workload: 'ctxswitch' as const, tasks: 2, loops: 1000, hz: 100 as const };
  const trunk = run({ mode: 'kvm-trunk', ...cfg });
  const trunkKeep = run({ mode: 'kvm-trunk', exitFlush: false, ...cfg });
  const native = run({ mode: 'native', ...cfg });
  const nativeKeep = run({ mode: 'native', exitFlush: false, ...cfg });

  it('keeping the TLB across exits removes the kernel refills after every cr3 exit', () => {
    // In the timed passes nothing changes shadow entries (no exit flushes everything);
    // every cr3 exit drops the user entries only.
    expect(trunkKeep.tlb.flushesFull).toBe(trunkKeep.mmu.ptWritesEmulated);
    expect(trunkKeep.tlb.flushesFull).toBe(0);
    expect(trunkKeep.tlb.flushesNonGlobal).toBe(trunkKeep.exits.byReason.CR_ACCESS!.count);
    expect(trunkKeep.tlb.misses).toBeLessThan(trunk.tlb.misses / 2);
    expect(trunkKeep.metric.value).toBeLessThan(trunk.metric.value);
    // The exits themselves remain.
    expect(trunkKeep.exits.byReason.CR_ACCESS?.count).toBe(trunk.exits.byReason.CR_ACCESS?.count);
  });

  it('changes nothing without VMX', () => {
    expect(JSON.stringify({ ...nativeKeep, config: null })).toBe(JSON.stringify({ ...native, config: null }));
  });
});
