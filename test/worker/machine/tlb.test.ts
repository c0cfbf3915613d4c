import { describe, expect, it } from 'vitest';
import { Tlb } from '../../../worker/machine/tlb.js';

describe('TLB', () => {
  it('keeps global entries across a mov to cr3 and drops everything on a VM exit', () => {
    const tlb = new Tlb(16, 4);
    tlb.insert(0xc0100, true); // kernel, global
    tlb.insert(0x08048, false); // user
    expect(tlb.lookup(0xc0100)).toBe(true);
    expect(tlb.lookup(0x08048)).toBe(true);
    tlb.flushNonGlobal();
    expect(tlb.lookup(0xc0100)).toBe(true);
    expect(tlb.lookup(0x08048)).toBe(false);
    tlb.flushAll();
    expect(tlb.lookup(0xc0100)).toBe(false);
    expect(tlb.stat.misses).toBe(2);
    expect(tlb.stat.flushesNonGlobal).toBe(1);
    expect(tlb.stat.flushesFull).toBe(1);
    expect(tlb.size).toBe(0);
  });

  it('replaces round-robin within a set when all ways are taken', () => {
    const tlb = new Tlb(8, 2); // 4 sets of 2 ways
    tlb.insert(0x10, false); // set 0
    tlb.insert(0x14, false); // set 0
    tlb.insert(0x18, false); // set 0: evicts way 0 (0x10)
    expect(tlb.lookup(0x10)).toBe(false);
    expect(tlb.lookup(0x14)).toBe(true);
    expect(tlb.lookup(0x18)).toBe(true);
    tlb.insert(0x1c, false); // evicts way 1 (0x14)
    expect(tlb.lookup(0x14)).toBe(false);
    expect(tlb.size).toBe(2);
  });

  it('invlpg drops one page only', () => {
    const tlb = new Tlb(16, 4);
    tlb.insert(1, false);
    tlb.insert(2, true);
    tlb.invalidate(2);
    expect(tlb.lookup(2)).toBe(false);
    expect(tlb.lookup(1)).toBe(true);
    expect(tlb.size).toBe(1);
  });
});

describe('TLB with PCIDs and a second level', () => {
  it('a translation serves its own PCID only, a global one every PCID; a flushing cr3 load drops its PCID alone', () => {
    const tlb = new Tlb(16, 4);
    tlb.pcid = 1;
    tlb.insert(0x08048, false);
    tlb.insert(0xc0100, true);
    tlb.pcid = 2;
    expect(tlb.lookup(0x08048)).toBe(false); // PCID 1's
    expect(tlb.lookup(0xc0100)).toBe(true); // global
    tlb.insert(0x08048, false);
    tlb.flushPcid(2);
    expect(tlb.lookup(0x08048)).toBe(false);
    tlb.pcid = 1;
    expect(tlb.lookup(0x08048)).toBe(true); // PCID 1's entry survived the flush of 2
    expect(tlb.lookup(0xc0100)).toBe(true);
  });

  it('a first-level miss that hits the second level costs its hit time and refills the first level', () => {
    const owner = { clock: 0 };
    const walk = { stlbHits: 0 };
    const tlb = new Tlb(4, 4); // one set of four
    tlb.addSecondLevel(64, 4, 9, owner, walk);
    for (let v = 0; v < 5; v++) tlb.insert(v, false); // the fifth evicts page 0 from the first level only
    expect(tlb.lookup(0)).toBe(true);
    expect(owner.clock).toBe(9);
    expect(walk.stlbHits).toBe(1);
    expect(tlb.stat.misses).toBe(0);
    expect(tlb.lookup(0)).toBe(true); // now in the first level: free
    expect(owner.clock).toBe(9);
    tlb.flushAll();
    expect(tlb.lookup(0)).toBe(false); // a flush reaches both levels
    expect(tlb.stat.misses).toBe(1);
  });
});
