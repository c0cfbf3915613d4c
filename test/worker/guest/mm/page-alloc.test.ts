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

  /** The boot shuffle as it was done eagerly: each zone's stack, each 256-frame block shuffled in turn from the bottom. */
  function eagerStacks(numFrames: number, reserved: number, seed: number): { normal: number[]; highmem: number[]; rng: Rng } {
    const rng = new Rng(seed);
    const zone = (lo: number, hi: number): number[] => {
      const st: number[] = [];
      for (let f = hi - 1; f >= lo; f--) st.push(f);
      for (let start = 0; start < st.length; start += 256) {
        const end = Math.min(st.length, start + 256);
        for (let i = end - 1; i > start; i--) {
          const j = start + rng.below(i - start + 1);
          [st[i], st[j]] = [st[j]!, st[i]!];
        }
      }
      return st;
    };
    const low = Math.min(numFrames, 229376);
    return { normal: zone(reserved, low), highmem: zone(low, numFrames), rng };
  }

  it('hands out the frames of the boot shuffle done block by block as it reaches them, and leaves the generator where the whole shuffle would', () => {
    // Sizes with a partial last block, with highmem (above 896 MiB), and frees mixed in.
    for (const [numFrames, reserved, seed] of [
      [1000, 16, 5],
      [4096 + 77, 100, 9],
      [229376 + 600, 64, 2],
    ] as const) {
      const ref = eagerStacks(numFrames, reserved, seed);
      const rng = new Rng(seed);
      const pages = new PageAllocator(new GuestMemory(numFrames), reserved, rng);
      // The kernel's generator is past the whole shuffle at once.
      expect(rng.nextU32()).toBe(ref.rng.nextU32());
      const high = [...ref.highmem];
      const normal = [...ref.normal];
      const got: number[] = [];
      const want: number[] = [];
      /** Frames handed out and not freed. */
      const held: number[] = [];
      let x = seed;
      // Up to 3,000 held at once (for the largest size: highmem's 600 run out, then lowmem's fallback).
      while (held.length < Math.min(3000, (numFrames - reserved) * 0.6)) {
        x = (x * 1103515245 + 12345) % 2147483648;
        if (x % 5 === 0 && held.length > 0) {
          // Free a held frame: it comes back first, in the model and in the reference.
          const [f] = held.splice(x % held.length, 1);
          pages.freeFrame(f!);
          (f! >= 229376 ? high : normal).push(f!);
          continue;
        }
        const f = x % 2 === 0 ? pages.allocHighUser() : pages.allocFrame();
        got.push(f);
        held.push(f);
        want.push(x % 2 === 0 && high.length > 0 ? high.pop()! : normal.pop()!);
      }
      expect(got).toEqual(want);
    }
  });

  it('deals the same frames to the vCPUs as from a stack shuffled at boot', () => {
    const ref = eagerStacks(2048, 32, 4);
    const pages = new PageAllocator(new GuestMemory(2048), 32, new Rng(4));
    pages.allocFrame();
    pages.splitFree(3);
    const n = ref.normal.length - 1;
    const dealt = n - (n >>> 1);
    // Frame k from the top goes to vCPU k mod 3, as its (k div 3)-th from the top.
    for (let c = 0; c < 3; c++) {
      const mine = Array.from({ length: Math.ceil((dealt - c) / 3) }, (_, i) => ref.normal[n - 1 - (c + 3 * i)]);
      expect(Array.from({ length: mine.length }, () => pages.allocFrame(c))).toEqual(mine);
    }
    expect(pages.freeFrames).toBe(n - dealt);
  });
});

