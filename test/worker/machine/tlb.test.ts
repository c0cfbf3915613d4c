import { describe, expect, it } from 'vitest';
import { Rng } from '../../../shared/rng.js';
import { Tlb, newTlb } from '../../../worker/machine/tlb.js';

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

/** A set-associative TLB as the SDM states it, slot by slot: the reference the Tlb's lists and PCID chains must agree with. */
class PlainTlb {
  readonly tag: number[];
  readonly pcid: number[];
  readonly global: boolean[];
  readonly victim: number[];
  cur = 0;
  misses = 0;
  constructor(
    readonly sets: number,
    readonly ways: number,
  ) {
    this.tag = new Array<number>(sets * ways).fill(-1);
    this.pcid = new Array<number>(sets * ways).fill(0);
    this.global = new Array<boolean>(sets * ways).fill(false);
    this.victim = new Array<number>(sets).fill(0);
  }
  find(vpn: number): number {
    const base = (vpn & (this.sets - 1)) * this.ways;
    for (let w = 0; w < this.ways; w++) if (this.tag[base + w] === vpn && (this.global[base + w] || this.pcid[base + w] === this.cur)) return base + w;
    return -1;
  }
  lookup(vpn: number): boolean {
    if (this.find(vpn) >= 0) return true;
    this.misses++;
    return false;
  }
  insert(vpn: number, g: boolean): void {
    const set = vpn & (this.sets - 1);
    const base = set * this.ways;
    let slot = this.tag.slice(base, base + this.ways).indexOf(-1);
    if (slot >= 0) slot += base;
    else {
      slot = base + this.victim[set]!;
      this.victim[set] = (this.victim[set]! + 1) % this.ways;
    }
    this.tag[slot] = vpn;
    this.pcid[slot] = this.cur;
    this.global[slot] = g;
  }
  drop(pred: (s: number) => boolean): void {
    for (let s = 0; s < this.tag.length; s++) if (this.tag[s] !== -1 && pred(s)) this.tag[s] = -1;
  }
}

describe('TLB: a page held both globally and under a PCID', () => {
  // The lower way answers, as the hardware's compare of the ways in order: here the global one.
  for (const ways of [4, 16, 64]) {
    it(`invlpg drops the entry in the lower way (${ways} ways${ways > 32 ? ', found through the index' : ''})`, () => {
      const tlb = newTlb(ways * 4, ways); // 4 sets
      tlb.pcid = 1;
      expect(tlb.lookup(8)).toBe(false);
      tlb.insert(8, false); // way 0
      expect(tlb.lookup(4)).toBe(false);
      tlb.insert(4, false); // way 1, under PCID 1
      tlb.invalidate(8); // way 0 free again
      tlb.pcid = 2;
      expect(tlb.lookup(4)).toBe(false);
      tlb.insert(4, true); // way 0, global
      tlb.pcid = 1;
      expect(tlb.lookup(4)).toBe(true);
      tlb.invalidate(4); // the global entry, in way 0
      tlb.pcid = 2;
      expect(tlb.lookup(4)).toBe(false);
      tlb.pcid = 1;
      expect(tlb.lookup(4)).toBe(true); // PCID 1's entry stayed
    });
  }
});

describe('TLB: flushes by PCID', () => {
  it('hold the same entries as a slot-by-slot TLB over random inserts, lookups, invlpg and flushes of every kind', () => {
    const rng = new Rng(777);
    const rnd = (n: number): number => rng.below(n);
    for (const [entries, ways] of [
      [64, 4],
      [16, 16],
      [8, 1],
      // A Skylake STLB's 12 ways; 32 ways (the last bit of a set's free-way mask); 64 (no mask: the index of tags).
      [96, 12],
      [64, 32],
      [64, 64],
    ] as const) {
      const tlb = newTlb(entries, ways);
      const ref = new PlainTlb(entries / ways, ways);
      // Flushes by PCID start after some entries exist (the lists are made at the first one).
      for (let i = 0; i < 30_000; i++) {
        const op = rnd(200);
        const vpn = rnd(96);
        if (op < 4) {
          const p = rnd(5);
          tlb.flushPcid(p);
          ref.drop((s) => !ref.global[s] && ref.pcid[s] === p);
        } else if (op === 4) {
          tlb.flushNonGlobal();
          ref.drop((s) => !ref.global[s]);
        } else if (op === 5) {
          tlb.flushAll();
          ref.drop(() => true);
        } else if (op < 12) {
          tlb.pcid = ref.cur = rnd(5);
        } else if (op < 20) {
          tlb.invalidate(vpn);
          const s = ref.find(vpn);
          if (s >= 0) ref.tag[s] = -1;
        } else if (!tlb.lookup(vpn)) {
          expect(ref.lookup(vpn)).toBe(false);
          // Pages 80.. are global; some others now and then, so that one page can be held both globally and under a PCID.
          const g = vpn >= 80 || (vpn % 7 === 0 && rnd(3) === 0);
          tlb.insert(vpn, g);
          ref.insert(vpn, g);
        } else expect(ref.lookup(vpn)).toBe(true);
        if (i % 1000 === 0) expect(tlb.size).toBe(ref.tag.filter((t) => t !== -1).length);
      }
      expect(tlb.stat.misses).toBe(ref.misses);
      expect(tlb.stat.misses).toBeGreaterThan(100);
    }
  });
});

