import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../shared/config.js';
import { Tlb } from '../../../worker/machine/tlb.js';
import { PageHash } from '../../../worker/hypervisor/kvm/shadow/page-hash.js';
import type { KvmPlatform } from '../../../worker/hypervisor/kvm/kvm.js';
import type { ShadowMmu } from '../../../worker/hypervisor/kvm/shadow/shadow-mmu.js';
import { runSplit } from '../../../worker/smp/partition.js';
import { simulate, simulateSplit, Vm } from '../../../worker/vm.js';

const hb = (vcpus: number, groups = 1, loops = 2) => resolveConfig({ mode: 'kvm-paravirt', workload: 'hackbench', groups, loops, vcpus, memoryMiB: 896 });

describe('a big VM', () => {
  it('the per-vCPU free lists hold room for guest memory about once, not once per vCPU', () => {
    const frames = (896 * 1024 * 1024) / 4096;
    for (const vcpus of [8, 64, 256]) {
      const pages = new Vm(hb(vcpus)).kernel.pages;
      const words = pages.listWords;
      // Each vCPU's share, each at least 64 words (the boot list is let go once dealt): not vcpus x frames.
      expect(words).toBeLessThanOrEqual(frames + 64 * vcpus);
      expect(words).toBeGreaterThanOrEqual(pages.freeFrames);
      expect(pages.freeFrames).toBeGreaterThan(frames / 2);
    }
  });

  it('32 vCPUs split: the same statistics on 1, 2 and 4 replicas', () => {
    const cfg = hb(32, 1, 1);
    const whole = JSON.stringify(simulate(cfg));
    const ids = [...Array(32).keys()];
    expect(JSON.stringify(simulateSplit(cfg, [ids.slice(0, 16), ids.slice(16)]))).toBe(whole);
    expect(JSON.stringify(simulateSplit(cfg, [0, 1, 2, 3].map((r) => ids.filter((v) => v % 4 === r))))).toBe(whole);
  }, 120_000);

  it('the TLB finds an entry by its set alone: a 4-way set keeps 4 VPNs of the set, the 5th evicts round-robin', () => {
    const t = new Tlb(16, 4); // 4 sets
    for (const vpn of [0, 4, 8, 12]) t.insert(vpn, false);
    for (const vpn of [0, 4, 8, 12]) expect(t.lookup(vpn)).toBe(true);
    t.insert(16, false); // set 0 full: replaces way 0 (vpn 0)
    expect(t.lookup(0)).toBe(false);
    expect(t.lookup(16)).toBe(true);
    expect(t.lookup(4)).toBe(true);
  });

  it('the shadow page hash is a map under collisions and deletions', () => {
    const h = new PageHash(40);
    const ref = new Map<number, number>();
    let x = 12345;
    for (let i = 0; i < 5000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const key = x % 300;
      if (x & 1 && ref.size < 40) {
        h.set(key, i);
        ref.set(key, i);
      } else {
        h.delete(key);
        ref.delete(key);
      }
      for (let k = 0; k < 300; k += 7) expect(h.get(k)).toBe(ref.get(k) ?? -1);
    }
  });
});

describe('a replica of a 256-vCPU VM', () => {
  const cfg = resolveConfig({ mode: 'kvm-paravirt', workload: 'hackbench', groups: 3, loops: 1, vcpus: 256, memoryMiB: 896 });
  const ids = [...Array(256).keys()];

  it('the same statistics on 1, 2 and 4 replicas', () => {
    const whole = JSON.stringify(simulate(cfg));
    expect(JSON.stringify(simulateSplit(cfg, [ids.filter((v) => v < 128), ids.filter((v) => v >= 128)]))).toBe(whole);
    expect(JSON.stringify(simulateSplit(cfg, [0, 1, 2, 3].map((r) => ids.filter((v) => v % 4 === r))))).toBe(whole);
  }, 120_000);

  it('after the split holds shadow pages only in the shards of its own vCPUs', () => {
    const replicas: Vm[] = [];
    const local = [ids.filter((v) => v % 2 === 0), ids.filter((v) => v % 2 === 1)];
    runSplit((l) => {
      const vm = new Vm(cfg, {}, l);
      replicas.push(vm);
      return vm;
    }, local);
    for (const [r, vm] of replicas.entries()) {
      const mmu = (vm.platform as KvmPlatform).mmu as ShadowMmu;
      const used = (odd: number) => vm.pc.vcpus.filter((v) => v.id % 2 === odd).reduce((a, v) => a + mmu.state(v).pages.usedPages, 0);
      // The prelude ran every vCPU here and built shards for many of them; the others' are let go.
      expect(used(r)).toBeGreaterThan(100);
      expect(used(1 - r)).toBe(0);
    }
  }, 120_000);

  it('holds no page-table words for address spaces another replica tore down, nor the others\' free lists', () => {
    const whole = new Vm(cfg);
    whole.run();
    const replicas: Vm[] = [];
    runSplit((l) => {
      const vm = new Vm(cfg, {}, l);
      replicas.push(vm);
      return vm;
    }, [ids.filter((v) => v % 2 === 0), ids.filter((v) => v % 2 === 1)]);
    // Each replica tore down the address spaces whose last task exited on its vCPUs (the
    // cleared tables keep their zeroed blocks, as the whole VM's do) and let go of the others'.
    // Above what a VM holds when built (the lowmem direct map's tables, the first directories),
    // the two replicas together hold no more than the whole VM.
    const base = new Vm(cfg).pc.mem.heldBytes;
    const above = replicas.map((vm) => vm.pc.mem.heldBytes - base);
    const wholeAbove = whole.pc.mem.heldBytes - base;
    expect(wholeAbove).toBeGreaterThan(32 * 1024);
    for (const a of above) expect(a).toBeGreaterThan(0.3 * wholeAbove);
    expect(above[0]! + above[1]!).toBeLessThanOrEqual(wholeAbove);
    for (const vm of replicas) expect(vm.kernel.pages.listWords).toBeLessThan(whole.kernel.pages.listWords * 0.75);
  }, 120_000);
});
