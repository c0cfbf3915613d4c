import { describe, expect, it } from 'vitest';
import { GuestMemory, PTE_A, PTE_D, PTE_G, PTE_P, PTE_RW, PTE_US } from '../../worker/memory.js';
import { Rng } from '../../worker/rng.js';

describe('guest memory: 32-bit two-level page walk', () => {
  it('walks PDE then PTE and sets the accessed and dirty bits as the MMU does', () => {
    const mem = new GuestMemory(4096, 16, new Rng(1));
    const pd = mem.allocPageTable();
    const pt = mem.allocPageTable();
    // 0x0804a000: PDE index 0x20, PTE index 0x4a.
    mem.writeEntry(pd, 0x20, (pt << 12) | PTE_P | PTE_RW | PTE_US);
    mem.writeEntry(pt, 0x4a, (1234 << 12) | PTE_P | PTE_RW | PTE_US);

    const pte = mem.walk(pd, 0x0804a, false);
    expect(pte >>> 12).toBe(1234);
    expect(pte & 0xfff).toBe(PTE_P | PTE_RW | PTE_US | PTE_A);
    expect(mem.readEntry(pd, 0x20) & PTE_A).toBe(PTE_A);
    expect(mem.readEntry(pt, 0x4a) & PTE_D).toBe(0);

    mem.walk(pd, 0x0804a, true);
    expect(mem.readEntry(pt, 0x4a) & 0xfff).toBe(PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D);
  });

  it('returns 0 for a missing PDE or PTE', () => {
    const mem = new GuestMemory(4096, 16, new Rng(1));
    const pd = mem.allocPageTable();
    const pt = mem.allocPageTable();
    mem.writeEntry(pd, 0x300, (pt << 12) | PTE_P | PTE_RW);
    mem.writeEntry(pt, 5, (77 << 12) | PTE_P | PTE_G);
    expect(mem.walk(pd, (0x300 << 10) | 5, false) >>> 12).toBe(77);
    expect(mem.walk(pd, (0x300 << 10) | 6, false)).toBe(0);
    expect(mem.walk(pd, (0x301 << 10) | 5, false)).toBe(0);
  });

  it('reuses the last freed frame first; a freed frame keeps its words until written', () => {
    const mem = new GuestMemory(1024, 16, new Rng(7));
    const a = mem.allocPageTable();
    mem.writeEntry(a, 1, 0xabc);
    mem.freeFrame(a);
    expect(mem.readEntry(a, 1)).toBe(0xabc);
    const b = mem.allocFrame();
    expect(b).toBe(a);
    expect(mem.hasContents(b)).toBe(true);
    expect(mem.readEntry(b, 1)).toBe(0xabc);
    mem.freeFrame(b);
    expect(mem.allocPageTable()).toBe(a);
    expect(mem.readEntry(a, 1)).toBe(0);
    expect(mem.freeFrames).toBe(1024 - 16 - 1);
  });
});
