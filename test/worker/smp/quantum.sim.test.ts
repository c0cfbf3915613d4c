/**
 * Multi-vCPU VMs in quanta: the statistics do not depend on how the vCPUs are split
 * between replicas; a wake-up across vCPUs takes effect at the quantum's end; the
 * load balancer moves tasks; the shadow-MMU shards stay coherent.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig, type SimConfig } from '../../../shared/config.js';
import { simulate, simulateSplit } from '../../../worker/vm.js';

const hb = (o: Partial<SimConfig> = {}): SimConfig =>
  resolveConfig({ mode: 'kvm-paravirt', workload: 'hackbench', groups: 2, loops: 10, vcpus: 4, sndbuf: 2048, ...o });

/** One replica with every vCPU, two replicas of interleaved vCPUs, one replica per vCPU in a shuffled order. */
const PLACEMENTS = [[[0, 1, 2, 3]], [[0, 2], [1, 3]], [[3], [1], [0], [2]]];

describe('placement independence', () => {
  const cases: [string, SimConfig][] = [
    ['paravirt hackbench, processes, sockets', hb()],
    ['trunk hackbench, threads (one address space on every vCPU), pipes', hb({ mode: 'kvm-trunk', thread: true, pipe: true })],
    ['upstream hackbench, default socket buffers', hb({ mode: 'kvm-upstream', sndbuf: 65535, groups: 1 })],
    ['paravirt ctxswitch ring of 6 over 3 vCPUs', resolveConfig({ mode: 'kvm-paravirt', workload: 'ctxswitch', tasks: 6, loops: 50, vcpus: 3 })],
  ];
  for (const [name, cfg] of cases) {
    it(`${name}: byte-identical statistics however the vCPUs are split`, () => {
      const whole = JSON.stringify(simulate(cfg));
      const placements = cfg.vcpus === 4 ? PLACEMENTS : [[[0, 1, 2]], [[2], [0, 1]]];
      for (const p of placements) expect(JSON.stringify(simulateSplit(cfg, p))).toBe(whole);
    });
  }

  it('the same seed gives the same statistics; another seed gives others', () => {
    expect(JSON.stringify(simulate(hb()))).toBe(JSON.stringify(simulate(hb())));
    expect(simulate(hb({ seed: 2 })).exits.total).not.toBe(simulate(hb()).exits.total);
  });
});

describe('quantum', () => {
  it('a pipe ping-pong across two vCPUs takes two quanta per round trip (each hop waits for the quantum end)', () => {
    for (const quantum of [20, 100]) {
      const r = simulate(resolveConfig({ mode: 'kvm-paravirt', workload: 'pipe', vcpus: 2, loops: 200, quantum }));
      // Each hop: written in one quantum, the reader woken at its end, answered in the next.
      // (The timed interval runs from one of A's read completions to another; where each falls
      // inside its quantum differs by the work done in it, a few ns over thousands of trips.)
      expect(r.metric.value).toBeGreaterThan(2 * quantum - 0.01);
      expect(r.metric.value).toBeLessThan(2 * quantum + 6);
      // Every round trip is two switches on each side (to idle and back), over lat_pipe's second or more.
      const roundTrips = r.guestTimeNs / 1e3 / r.metric.value;
      expect(roundTrips * r.metric.value).toBeGreaterThan(0.95e6 - 1);
      expect(r.guest.contextSwitches / roundTrips).toBeCloseTo(4, 1);
    }
    const one = simulate(resolveConfig({ mode: 'kvm-paravirt', workload: 'pipe', vcpus: 1, loops: 200 }));
    expect(one.metric.value).toBeLessThan(10);
  });

  it('has no effect on a one-vCPU VM', () => {
    const a = simulate(resolveConfig({ workload: 'ctxswitch', loops: 300, quantum: 5 }));
    const b = simulate(resolveConfig({ workload: 'ctxswitch', loops: 300, quantum: 500 }));
    expect({ ...a, config: null }).toEqual({ ...b, config: null });
  });
});

describe('SMP guest', () => {
  it('balances: every vCPU works, tasks migrate, migrations are counted where they arrive', () => {
    const r = simulate(hb({ groups: 2, vcpus: 4 }));
    expect(r.guest.migrations).toBeGreaterThan(0);
    expect(r.guest.migrations).toBe(r.perVcpu.reduce((a, v) => a + v.guest.migrations, 0));
    for (const v of r.perVcpu) expect(v.haltedNs / v.guestTimeNs).toBeLessThan(0.5);
    // Every message is sent once and received once: 2 groups x 20 senders x 20 receivers x 10
    // loops. The statistics start at the end of the quantum of the go (its byte is not counted).
    expect(r.guest.messages).toBe(2 * 20 * 20 * 10);
  });

  it('per-vCPU shadow-MMU shards add up to the VM figures, and a frame two shards shadow stays write-protected for both', () => {
    const r = simulate(hb({ mode: 'kvm-trunk', thread: true }));
    const sum = (f: (m: (typeof r.perVcpu)[number]['mmu']) => number) => r.perVcpu.reduce((a, v) => a + f(v.mmu), 0);
    expect(r.mmu.shadowFaults).toBe(sum((m) => m.shadowFaults));
    expect(r.mmu.pagesCreated).toBe(sum((m) => m.pagesCreated));
    // Threads share one address space on all four vCPUs: each shard shadows its tables.
    expect(r.perVcpu.every((v) => v.mmu.pagesCreated > 0)).toBe(true);
    // exit_mmap of the shared address space writes page tables other shards shadow: emulated.
    expect(r.mmu.ptWritesEmulated).toBeGreaterThan(0);
    const checked = simulate(hb({ mode: 'kvm-trunk', thread: true, check: true }));
    expect(checked.mmu.checks).toBeGreaterThan(0);
    expect(checked.mmu.staleTranslations).toBe(0);
  });

  it('a task the balancer is moving misses nothing: the parent reaps all 400 children though children exit while it moves', () => {
    // This config moves the parent between vCPUs while children exit on them (a lost
    // zombie once left it waiting forever).
    const r = simulate(hb({ groups: 10, loops: 10, quantum: 1000, sndbuf: 65535 }));
    expect(r.guest.migrations).toBeGreaterThan(0);
    expect(r.metric.value).toBeGreaterThan(0);
    expect(r.guestTimeNs).toBeLessThan(1e9);
  });

  it('rejects workloads that model one CPU', () => {
    expect(() => resolveConfig({ workload: 'iomix', vcpus: 2 })).toThrow(/vcpus: 2 is not allowed; expected 1 for iomix/);
  });
});
