import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../../../worker/machine/memory.js';

/** Two directories whose entries 768..1023 are the same words, as pgd_alloc's kernel half. */
function twoDirectories(): GuestMemory {
  const mem = new GuestMemory(4096);
  for (const f of [10, 20]) {
    mem.holdPageTable(f);
    for (let i = 768; i < 1000; i++) mem.writeEntry(f, i, (i << 12) | 0x63);
    mem.writeEntry(f, 32, f << 12); // a user entry of its own
  }
  return mem;
}

describe('guest memory: page-table words', () => {
  it('frames that never held a page table read as zero at any frame number', () => {
    const mem = new GuestMemory(1 << 20);
    expect(mem.hasContents(900_000)).toBe(false);
    expect(mem.readEntry(900_000, 5)).toBe(0);
    expect(() => mem.writeEntry(900_000, 5, 1)).toThrow(/holds no page table/);
    mem.holdPageTable(900_000);
    mem.writeEntry(900_000, 5, 0xfeedf00d);
    expect(mem.readEntry(900_000, 5)).toBe(0xfeedf00d);
  });

  it('equal parts share one block: the same reads, 4 blocks fewer held', () => {
    const mem = twoDirectories();
    // Each directory: blocks 0 (entry 32) and 12..15 (768..999): 5 blocks of 256 bytes.
    expect(mem.heldBytes).toBe(2 * 5 * 256);
    mem.share(20, 10, 768, 1024);
    expect(mem.heldBytes).toBe((2 + 4) * 256);
    for (let i = 768; i < 1000; i++) expect(mem.readEntry(20, i)).toBe(((i << 12) | 0x63) >>> 0);
    expect(mem.readEntry(20, 32)).toBe(20 << 12);
    expect(mem.readEntry(10, 32)).toBe(10 << 12);
  });

  it('a write to a shared part copies it: the other frame keeps its word; the same word keeps it shared', () => {
    const mem = twoDirectories();
    mem.share(20, 10, 768, 1024);
    mem.writeEntry(20, 800, (800 << 12) | 0x63); // unchanged word
    expect(mem.heldBytes).toBe(6 * 256);
    mem.writeEntry(20, 800, 0);
    expect(mem.heldBytes).toBe(7 * 256);
    expect(mem.readEntry(20, 800)).toBe(0);
    expect(mem.readEntry(10, 800)).toBe((800 << 12) | 0x63);
    expect(mem.readEntry(20, 801)).toBe((801 << 12) | 0x63);
  });

  it('clearing a frame lets go of shared parts without zeroing them for the other', () => {
    const mem = twoDirectories();
    mem.share(20, 10, 768, 1024);
    mem.zeroFrom(20, 900); // part 14 from entry 900 (copied), parts 15 (let go)
    expect(mem.readEntry(20, 899)).toBe((899 << 12) | 0x63);
    expect(mem.readEntry(20, 900)).toBe(0);
    expect(mem.readEntry(20, 990)).toBe(0);
    expect(mem.readEntry(10, 900)).toBe((900 << 12) | 0x63);
    expect(mem.readEntry(10, 990)).toBe((990 << 12) | 0x63);
    mem.zeroFrom(10, 0);
    expect(mem.readEntry(10, 800)).toBe(0);
    expect(mem.readEntry(20, 800)).toBe((800 << 12) | 0x63);
    // Left: frame 20's parts 0, 12, 13 (shared no more) and its copy of 14.
    expect(mem.heldBytes).toBe(4 * 256);
  });
});
