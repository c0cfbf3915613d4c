import { RecordBus } from '../../../../worker/smp/bus.js';
import { Inbox } from '../../../../worker/smp/msgbuf.js';
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

  it('deals half the free frames to per-vCPU lists in turn, each vCPU allocating from its own; the rest is the reserve', () => {
    const pages = new PageAllocator(new GuestMemory(20), 10, new Rng(3));
    const top = [...Array(10)].map(() => pages.allocFrame());
    for (const f of [...top].reverse()) pages.freeFrame(f);
    pages.splitFree(2);
    // Still free (nr_free_pages counts the per-vCPU lists and the reserve), 5 of them dealt.
    expect(pages.freeFrames).toBe(10);
    // Frame k from the top of the stack goes to vCPU k mod 2: vCPU 0 has top 0, 2, 4.
    expect([0, 1, 2].map(() => pages.allocFrame(0))).toEqual([top[0], top[2], top[4]]);
    expect(pages.allocFrame(1)).toBe(top[1]);
    expect(() => pages.allocFrame(0)).toThrow(/on vCPU 0/);
  });

  it("refills a list below half its share at the quantum's end from the top of the reserve, by a record every replica merges", () => {
    const pages = new PageAllocator(new GuestMemory(20), 10, new Rng(3));
    const top = [...Array(10)].map(() => pages.allocFrame());
    for (const f of [...top].reverse()) pages.freeFrame(f);
    pages.splitFree(2);
    const bus = new RecordBus(2, [0]); // this replica runs vCPU 0; vCPU 1 is another's
    pages.attachSmp(bus, [
      { id: 0, clock: 100 },
      { id: 1, clock: 100 },
    ]);
    bus.setLocal([0]);
    for (let i = 0; i < 2; i++) pages.allocFrame(0); // 1 of its share of 3 left: below half
    bus.endQuantum();
    const inbox = new Inbox();
    inbox.fill([bus.collect()]);
    bus.clearOut();
    bus.deliver(inbox);
    // Back to 3: top 5 and 6 pushed in that order, so 6 comes out first (LIFO), then the one it kept.
    expect([0, 1, 2].map(() => pages.allocFrame(0))).toEqual([top[6], top[5], top[4]]);
    // Left: the reserve's 3 and vCPU 1's 2 (its list let go here, its count kept).
    expect(pages.freeFrames).toBe(5);
  });
});
