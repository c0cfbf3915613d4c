import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../../../worker/machine/memory.js';
import { PTE_A, PTE_D, PTE_G, PTE_P, PTE_RW, PTE_US, walk } from '../../../worker/machine/paging.js';

/** A page-table frame with contents. */
function table(mem: GuestMemory, f: number): number {
  mem.holdPageTable(f);
  return f;
}

describe('guest memory: 32-bit two-level page walk', () => {
  it('walks PDE then PTE and sets the accessed and dirty bits as the MMU does', () => {
    const mem = new GuestMemory(4096);
    const pd = table(mem, 20);
    const pt = table(mem, 21);
    // 0x0804a000: PDE index 0x20, PTE index 0x4a.
    mem.writeEntry(pd, 0x20, (pt << 12) | PTE_P | PTE_RW | PTE_US);
    mem.writeEntry(pt, 0x4a, (1234 << 12) | PTE_P | PTE_RW | PTE_US);

    const pte = walk(mem, pd, 0x0804a, false);
    expect(pte >>> 12).toBe(1234);
    expect(pte & 0xfff).toBe(PTE_P | PTE_RW | PTE_US | PTE_A);
    expect(mem.readEntry(pd, 0x20) & PTE_A).toBe(PTE_A);
    expect(mem.readEntry(pt, 0x4a) & PTE_D).toBe(0);

    walk(mem, pd, 0x0804a, true);
    expect(mem.readEntry(pt, 0x4a) & 0xfff).toBe(PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D);
  });

  it('returns 0 for a missing PDE or PTE', () => {
    const mem = new GuestMemory(4096);
    const pd = table(mem, 30);
    const pt = table(mem, 31);
    mem.writeEntry(pd, 0x300, (pt << 12) | PTE_P | PTE_RW);
    mem.writeEntry(pt, 5, (77 << 12) | PTE_P | PTE_G);
    expect(walk(mem, pd, (0x300 << 10) | 5, false) >>> 12).toBe(77);
    expect(walk(mem, pd, (0x300 << 10) | 6, false)).toBe(0);
    expect(walk(mem, pd, (0x301 << 10) | 5, false)).toBe(0);
  });

  it('reads a frame without page-table contents as zero and refuses to write one', () => {
    const mem = new GuestMemory(64);
    expect(mem.hasContents(9)).toBe(false);
    expect(mem.readEntry(9, 3)).toBe(0);
    expect(() => mem.writeEntry(9, 3, 1)).toThrow(/holds no page table/);
  });
});
