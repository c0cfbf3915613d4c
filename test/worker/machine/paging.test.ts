import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../../../worker/machine/memory.js';
import { PTE_A, PTE_D, PTE_G, PTE_P, PTE_RW, PTE_US, tableAt, walk, walk4, x64Index } from '../../../worker/machine/paging.js';

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

describe('guest memory: x86-64 four-level walk', () => {
  it('notes the frame of each table it reads, the ones tableAt finds, and the PTE with its accessed bit', () => {
    const mem = new GuestMemory(4096);
    const [pml4, pdpt, pd, pt] = [40, 41, 42, 43].map((f) => table(mem, f));
    const vpn = 0x1234; // a user page: PML4 slot 0
    mem.writeEntry(pml4!, x64Index(vpn, 4), (pdpt! << 12) | PTE_P | PTE_RW | PTE_US);
    mem.writeEntry(pdpt!, x64Index(vpn, 3), (pd! << 12) | PTE_P | PTE_RW | PTE_US);
    mem.writeEntry(pd!, x64Index(vpn, 2), (pt! << 12) | PTE_P | PTE_RW | PTE_US);
    mem.writeEntry(pt!, x64Index(vpn, 1), (900 << 12) | PTE_P | PTE_RW | PTE_US);
    const tables = new Int32Array(5).fill(-1);
    expect(walk4(mem, pml4!, vpn, false, tables) >>> 12).toBe(900);
    expect(Array.from(tables.subarray(1))).toEqual([pt, pd, pdpt, pml4]);
    for (let level = 1; level <= 3; level++) expect(tables[level]).toBe(tableAt(mem, pml4!, vpn, level));
    expect(mem.readEntry(pt!, x64Index(vpn, 1)) & PTE_A).toBe(PTE_A);
    // Without the array the walk is the same.
    expect(walk4(mem, pml4!, vpn, true) >>> 12).toBe(900);
  });
});

