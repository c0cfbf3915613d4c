import { describe, expect, it } from 'vitest';
import { Rng } from '../../../../shared/rng.js';
import { GuestOutOfMemory, PageAllocator } from '../../../../worker/guest/mm/page-alloc.js';
import { GuestMemory } from '../../../../worker/machine/memory.js';

describe('the guest page allocator', () => {
  it('reuses the last freed frame first; a freed frame keeps its words until written', () => {
    const mem = new GuestMemory(1024);
    const pages = new PageAllocator(mem, 16, new Rng(7));
    const a = pages.allocPageTable();
    mem.writeEntry(a, 1, 0xabc);
    pages.freeFrame(a);
    expect(mem.readEntry(a, 1)).toBe(0xabc);
    const b = pages.allocFrame();
    expect(b).toBe(a);
    expect(mem.hasContents(b)).toBe(true);
    expect(mem.readEntry(b, 1)).toBe(0xabc);
    pages.freeFrame(b);
    expect(pages.allocPageTable()).toBe(a);
    expect(mem.readEntry(a, 1)).toBe(0);
    expect(pages.freeFrames).toBe(1024 - 16 - 1);
  });

  it('never hands out a reserved frame, and runs out with GuestOutOfMemory', () => {
    const pages = new PageAllocator(new GuestMemory(40), 32, new Rng(1));
    const got = Array.from({ length: 8 }, () => pages.allocFrame()).sort((x, y) => x - y);
    expect(got).toEqual([32, 33, 34, 35, 36, 37, 38, 39]);
    expect(() => pages.allocFrame()).toThrow(GuestOutOfMemory);
  });

  it('deals the free frames to per-vCPU lists in turn, each vCPU allocating from its own', () => {
    const pages = new PageAllocator(new GuestMemory(20), 10, new Rng(3));
    const top = [...Array(10)].map(() => pages.allocFrame());
    for (const f of [...top].reverse()) pages.freeFrame(f);
    pages.splitFree(2);
    // Still free (nr_free_pages counts the per-vCPU lists too), now dealt to the two lists.
    expect(pages.freeFrames).toBe(10);
    // Frame k from the top of the stack goes to vCPU k mod 2.
    expect([0, 1, 2, 3, 4].map(() => pages.allocFrame(0))).toEqual([top[0], top[2], top[4], top[6], top[8]]);
    expect(pages.allocFrame(1)).toBe(top[1]);
    expect(() => pages.allocFrame(0)).toThrow(/on vCPU 0/);
  });
});
