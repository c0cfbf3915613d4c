import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../shared/config.js';
import { Vm } from '../../../worker/vm.js';
import { GuestOutOfMemory, LOWMEM_FRAMES } from '../../../worker/guest/mm/page-alloc.js';

const vm = (memoryMiB: number) => new Vm(resolveConfig({ mode: 'kvm-paravirt', workload: 'ctxswitch', tasks: 2, memoryMiB }));

describe('ZONE_HIGHMEM (guests above 896 MiB)', () => {
  it('at 1536 MiB a user page comes from highmem and a page table from lowmem', () => {
    const { kernel } = vm(1536);
    const pages = kernel.pages;
    expect(LOWMEM_FRAMES).toBe(229_376);
    const z0 = pages.zones;
    // 640 MiB of highmem = 163,840 frames; what boot and set-up took from it were user pages.
    expect(z0.highmemFree + z0.highmemAllocs).toBe(163_840);
    expect(z0.highmemAllocs).toBeGreaterThanOrEqual(2); // at least the binary's text and libc
    const user = kernel.mm.allocPage();
    expect(user).toBeGreaterThanOrEqual(LOWMEM_FRAMES);
    const z1 = pages.zones;
    expect(z1).toEqual({ ...z0, highmemFree: z0.highmemFree - 1, highmemAllocs: z0.highmemAllocs + 1 });
    const pt = pages.allocPageTable();
    expect(pt).toBeLessThan(LOWMEM_FRAMES);
    expect(pages.zones).toEqual({ ...z1, normalFree: z1.normalFree - 1, normalAllocs: z1.normalAllocs + 1 });
    const kstack = kernel.mm.kernelPage();
    expect(kstack - 0xc0000).toBeLessThan(LOWMEM_FRAMES);
    // A freed highmem page goes back to highmem, and is the next user page (LIFO).
    pages.freeFrame(user);
    expect(pages.zones.highmemFree).toBe(z1.highmemFree + 1);
    expect(kernel.mm.allocPage()).toBe(user);
  });

  it('at 896 MiB there is no highmem: user pages come from lowmem', () => {
    const { kernel } = vm(896);
    expect(kernel.pages.zones.highmemFree).toBe(0);
    expect(kernel.pages.zones.highmemAllocs).toBe(0);
    expect(kernel.mm.allocPage()).toBeLessThan(LOWMEM_FRAMES);
  });

  it('lowmem exhausted while highmem is free: a kernel allocation fails (GFP_KERNEL never takes highmem), a user one still succeeds', () => {
    const { kernel } = vm(1024);
    const pages = kernel.pages;
    const n = pages.zones.normalFree;
    for (let i = 0; i < n; i++) pages.allocFrame();
    expect(() => pages.allocFrame()).toThrow(GuestOutOfMemory);
    expect(() => pages.allocFrame()).toThrow(new RegExp(`lowmem exhausted .*; ${pages.zones.highmemFree} highmem frames free`));
    expect(pages.zones.highmemFree).toBeGreaterThan(32_000); // of 32,768: set-up took a few user pages
    expect(kernel.mm.allocPage()).toBeGreaterThanOrEqual(LOWMEM_FRAMES);
  });
});

describe('per-vCPU lists refilled during the fork prelude', () => {
  it('400 tasks forked over 8 vCPUs need more frames than an eighth of 32 MiB: the run completes, the same on 2 replicas', async () => {
    const { simulate, simulateSplit } = await import('../../../worker/vm.js');
    const cfg = resolveConfig({ mode: 'kvm-paravirt', workload: 'hackbench', groups: 10, loops: 1, vcpus: 8, memoryMiB: 32 });
    const share = Math.ceil((8_192 - 2_048) / 8);
    const whole = simulate(cfg);
    expect(whole.guest.contextSwitches).toBeGreaterThan(400);
    const ids = [...Array(8).keys()];
    expect(JSON.stringify(simulateSplit(cfg, [ids.slice(0, 4), ids.slice(4)]))).toBe(JSON.stringify(whole));
    expect(share).toBe(768); // without the refill this run stops: guest memory exhausted on vCPU 1
  }, 120_000);
});
