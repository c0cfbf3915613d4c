/**
 * The modes of today against figures derived by hand from the mechanisms:
 *  - KVM's previous roots are an LRU of 1 + N roots: a ring of n processes (n page tables
 *    in turn) fits when n <= 1 + N and then never misses; one more and every switch misses
 *    (a cyclic walk over more keys than an LRU holds). With page-table isolation a process
 *    has two page tables, so 2n must fit;
 *  - EPT takes no exit for a cr3 load, an invlpg or a page-table store;
 *  - PVM's switcher does a user/kernel switch without the hypervisor when the other
 *    mode's root is the current one or prev_roots[0]: two per system call, two per
 *    interrupt taken in user mode;
 *  - without PCID every cr3 write flushes; with it the guest's switches keep their ASIDs.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig, type SimConfig } from '../../shared/config.js';
import type { RunResult } from '../../shared/stats.js';
import { simulate } from '../../worker/vm.js';

const run = (c: Partial<SimConfig>): RunResult => simulate(resolveConfig({ profile: 'skylake-sp-2017', hz: 100, ...c }));
const exits = (r: RunResult, reason: string): number => (r.exits.byReason as Record<string, { count: number } | undefined>)[reason]?.count ?? 0;

describe('kvm-shadow: previous roots', () => {
  const ring = (tasks: number, kpti: boolean, prevRoots: number) => run({ mode: 'kvm-shadow', workload: 'ctxswitch', tasks, kpti, prevRoots, loops: 300 });

  it('a ring of 1 + N processes never misses; one more misses at every switch', () => {
    const four = ring(4, false, 3);
    expect(four.roots!.misses).toBe(0);
    expect(four.roots!.fastSwitches).toBe(four.guest.addressSpaceSwitches);
    const five = ring(5, false, 3);
    expect(five.roots!.misses).toBe(five.guest.addressSpaceSwitches);
    expect(five.roots!.frees).toBe(five.roots!.misses);
    // Each miss is a kvm_mmu_load: a sync of the root and a flush of the VPID.
    expect(five.roots!.syncs).toBe(five.roots!.misses);
    expect(five.roots!.tlbFlushes).toBe(five.roots!.misses);
    // The root pages stay in the hash: nothing is built again.
    expect(five.roots!.built).toBe(0);
  });

  it('with page-table isolation a process takes two roots: 2 processes fit in 1 + 3, 3 need 1 + 5 (11 is plenty)', () => {
    expect(ring(2, true, 3).roots!.misses).toBe(0);
    const three = ring(3, true, 3);
    expect(three.roots!.misses).toBeGreaterThan(0);
    expect(ring(3, true, 11).roots!.misses).toBe(0);
    // Every cr3 write exits: switch_mm's and the two of each system call.
    expect(exits(three, 'CR_ACCESS')).toBe(three.asid!.cr3Writes);
    expect(three.asid!.ptiSwitches).toBe(2 * three.guest.syscalls);
  });

  it('a miss costs time: the ring of 3 with isolation is slower with 3 previous roots than with 11', () => {
    expect(ring(3, true, 3).metric.value).toBeGreaterThan(ring(3, true, 11).metric.value);
  });
});

describe('kvm-ept', () => {
  for (const workload of ['ctxswitch', 'syscall', 'pagefault', 'fork'] as const) {
    it(`${workload}: no CR_ACCESS and no INVLPG exit, with or without isolation`, () => {
      for (const kpti of [false, true]) {
        const r = run({ mode: 'kvm-ept', workload, kpti, loops: 50 });
        // What exits is the timer (its expiry, its re-arm) and first touches of guest memory.
        expect(r.exits.total).toBe(exits(r, 'PREEMPTION_TIMER') + exits(r, 'MSR_WRITE') + exits(r, 'EPT_VIOLATION'));
      }
    });
  }

  it('an i386 guest runs on EPT too, its walks two-dimensional', () => {
    const r = run({ mode: 'kvm-ept', arch: 'i386', workload: 'ctxswitch', loops: 300 });
    expect(exits(r, 'CR_ACCESS')).toBe(0);
    expect(r.walk!.refs).toBeGreaterThan(r.walk!.walks);
  });
});

describe('kvm-shadow-pv', () => {
  for (const kpti of [false, true]) {
    it(`syscall${kpti ? ' with isolation' : ''}: two switches by the switcher per call and per tick, none by the hypervisor`, () => {
      const r = run({ mode: 'kvm-shadow-pv', workload: 'syscall', kpti, loops: 1000 });
      expect(r.roots!.directSwitches).toBe(2 * (r.guest.syscalls + r.guest.timerTicks));
      expect(exits(r, 'CR_ACCESS')).toBe(0);
      expect(exits(r, 'VMCALL')).toBe(0);
    });
  }

  it('a switch of process is one hypercall (PVM_HC_LOAD_PGTBL), not a CR_ACCESS exit', () => {
    const r = run({ mode: 'kvm-shadow-pv', workload: 'ctxswitch', tasks: 2, loops: 300 });
    expect(exits(r, 'VMCALL')).toBe(r.guest.addressSpaceSwitches);
    expect(exits(r, 'CR_ACCESS')).toBe(0);
  });
});

describe('the guest of today', () => {
  it('without PCID every cr3 write flushes; with it a ring within six processes keeps its ASIDs', () => {
    const off = run({ mode: 'native', arch: 'x86-64', workload: 'ctxswitch', tasks: 4, pcid: false, loops: 300 });
    expect(off.asid!.noFlush).toBe(0);
    expect(off.asid!.cr3Writes).toBe(off.guest.addressSpaceSwitches);
    const on = run({ mode: 'native', arch: 'x86-64', workload: 'ctxswitch', tasks: 4, pcid: true, loops: 300 });
    expect(on.asid!.noFlush).toBe(on.asid!.cr3Writes);
    expect(on.asid!.newAsids).toBe(0);
    // Seven processes share six ASIDs (taken round robin): some switches must take a slot anew, and flush.
    const seven = run({ mode: 'native', arch: 'x86-64', workload: 'ctxswitch', tasks: 7, pcid: true, loops: 300 });
    expect(seven.asid!.newAsids).toBeGreaterThan(0);
    expect(seven.asid!.cr3Writes - seven.asid!.noFlush).toBe(seven.asid!.newAsids);
  });

  it('isolation without PCID flushes at every kernel entry and exit; with PCID only the switches of mm that need it', () => {
    const off = run({ mode: 'native', arch: 'x86-64', workload: 'syscall', kpti: true, pcid: false, loops: 500 });
    expect(off.asid!.ptiSwitches).toBe(2 * (off.guest.syscalls + off.guest.timerTicks));
    expect(off.asid!.noFlush).toBe(0);
    const on = run({ mode: 'native', arch: 'x86-64', workload: 'syscall', kpti: true, pcid: true, loops: 500 });
    expect(on.asid!.noFlush).toBe(on.asid!.cr3Writes);
    expect(on.metric.value).toBeLessThan(off.metric.value);
  });

  it('a 2007 result shows none of the groups of today', () => {
    const r = simulate(resolveConfig({ mode: 'kvm-trunk', loops: 50 })) as unknown as Record<string, unknown>;
    expect(r.walk).toBeUndefined();
    expect(r.roots).toBeUndefined();
    expect(r.asid).toBeUndefined();
  });
});

describe('what the hardware must have', () => {
  const refused = (c: Partial<SimConfig>, words: RegExp) => {
    let err: unknown;
    try {
      resolveConfig(c);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(words);
  };

  it('refuses EPT without it, PCID and VPID without them, a 32-bit guest where KVM caches no roots, SMP of today', () => {
    refused({ mode: 'kvm-ept' }, /core2-2007-fitted has no EPT\/NPT \(profiles with it: skylake-sp-2017, zen2-2019\)/);
    refused({ mode: 'kvm-shadow', profile: 'zen2-2019', pcid: true }, /pcid.*zen2-2019, whose CPU has no PCID/);
    refused({ mode: 'kvm-shadow', vpid: true }, /vpid.*core2-2007-fitted, whose CPU has no VPID/);
    refused({ mode: 'kvm-shadow', profile: 'skylake-sp-2017', arch: 'i386' }, /arch.*x86-64 in kvm-shadow \(KVM keeps previous roots only for 64-bit guests\)/);
    refused({ mode: 'kvm-trunk', arch: 'x86-64' }, /arch.*i386 in kvm-trunk/);
    refused({ mode: 'kvm-ept', profile: 'skylake-sp-2017', vcpus: 2 }, /vcpus.*1 in kvm-ept/);
    refused({ mode: 'kvm-trunk', workload: 'pagefault' }, /pagefault needs guest page faults/);
  });

  it('the defaults follow the profile: PCID and VPID where the CPU has them, the pool one page per 50 of memory', () => {
    expect(resolveConfig({ mode: 'kvm-shadow', profile: 'skylake-sp-2017' })).toMatchObject({ arch: 'x86-64', pcid: true, vpid: true, prevRoots: 3, mmuPages: 1310 });
    expect(resolveConfig({ mode: 'kvm-shadow', profile: 'zen2-2019' })).toMatchObject({ pcid: false, vpid: true });
    expect(resolveConfig({ mode: 'kvm-trunk' })).toMatchObject({ arch: 'i386', mmuPages: 256 });
  });
});
