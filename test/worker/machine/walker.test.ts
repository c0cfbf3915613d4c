/**
 * The page walker's references, derived by hand: a cold x86-64 walk reads the four levels;
 * under EPT each of the four guest tables' addresses and the data page's is walked through
 * the host's four levels first, (4 + 1)(4 + 1) - 1 = 24; an i386 guest's two levels on
 * EPT's four, (2 + 1)(4 + 1) - 1 = 14 (Bhargava et al., ASPLOS 2008). With the caches warm
 * only the PTE is read (and under EPT the PT's and the data page's host walks start at
 * the cached EPT PDE: one reference each).
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../shared/rng.js';
import { newGroup } from '../../../shared/stats.js';
import { pdIndex, x64Index } from '../../../worker/machine/paging.js';
import { PageWalker } from '../../../worker/machine/walker.js';

const frames = (...f: number[]) => Int32Array.from([0, ...f]);

describe('page walker', () => {
  it('native x86-64: 4 references cold, 1 with the PDE cached, 2 for a neighbour under another PDE of the same PD', () => {
    const stat = newGroup('walk');
    const w = new PageWalker(4, 0, 32, stat);
    expect(w.refs(0x08048, 1, frames(), 0)).toBe(4);
    expect(w.refs(0x08049, 1, frames(), 0)).toBe(1);
    expect(w.refs(0x08048 + 512, 1, frames(), 0)).toBe(2); // next PT: its PDE is not cached, the PDPTE is
    expect(w.refs(0x08048, 2, frames(), 0)).toBe(4); // another PCID: nothing cached for it
    expect(stat).toEqual({ stlbHits: 0, walks: 4, refs: 11 });
  });

  it('a flush of a PCID empties its cached entries', () => {
    const w = new PageWalker(4, 0, 32, newGroup('walk'));
    w.refs(0x08048, 1, frames(), 0);
    w.flushPcid(1);
    expect(w.refs(0x08048, 1, frames(), 0)).toBe(4);
  });

  it('EPT without caches: 24 references for four levels on four, 14 for two on four', () => {
    const w = new PageWalker(4, 4, 0, newGroup('walk'));
    expect(w.refs(0x08048, 0, frames(5003, 5002, 5001, 5000), 7000)).toBe(24);
    const w2 = new PageWalker(2, 4, 0, newGroup('walk'));
    expect(w2.refs(0x08048, 0, frames(3001, 3000), 9000)).toBe(14);
  });

  it('EPT with caches: the walk fills them as it goes; the next page costs 3', () => {
    const w = new PageWalker(4, 4, 32, newGroup('walk'));
    // Guest tables in frames 5000 (PML4) .. 5003 (PT), data in 7000. The guest's 4 reads; the
    // host's walk of 5000 cold (4), of 5001..5003 from the cached EPT PDE of their 2 MiB
    // (1 each), of 7000 from the cached EPT PDPTE (2): 4 + 4 + 3 + 2 = 13.
    expect(w.refs(0x08048, 0, frames(5003, 5002, 5001, 5000), 7000)).toBe(13);
    // The next page: the guest's PDE cached (its PT read: 1), the EPT PDEs of 5003 and of 7001 cached (1 each).
    expect(w.refs(0x08049, 0, frames(5003, 5002, 5001, 5000), 7001)).toBe(3);
  });

  it('no caches (0 entries): every walk is cold', () => {
    const w = new PageWalker(4, 4, 0, newGroup('walk'));
    expect(w.refs(1, 0, frames(4, 3, 2, 1), 9)).toBe(24);
    expect(w.refs(1, 0, frames(4, 3, 2, 1), 9)).toBe(24);
  });
});

/**
 * The caches as the SDM describes them and as the walker first kept them: keys tag * 4096 +
 * PCID in an array searched from the start, replaced round robin. The walker's hashed
 * caches must give the same references for any sequence of walks and flushes.
 */
class ScannedWalker {
  private readonly guest: { keys: number[]; next: number }[] = [];
  private readonly host: { keys: number[]; next: number }[] = [];
  constructor(
    private readonly levels: number,
    private readonly hostLevels: number,
    entries: number,
  ) {
    for (let l = 2; l <= levels; l++) this.guest.push({ keys: new Array<number>(entries).fill(-1), next: 0 });
    for (let l = 2; l <= hostLevels; l++) this.host.push({ keys: new Array<number>(entries).fill(-1), next: 0 });
  }
  private static hit(c: { keys: number[]; next: number }, key: number): boolean {
    if (c.keys.includes(key)) return true;
    if (c.keys.length > 0) {
      c.keys[c.next] = key;
      c.next = (c.next + 1) % c.keys.length;
    }
    return false;
  }
  private tag(vpn: number, level: number): number {
    if (this.levels === 2) return pdIndex(vpn);
    let tag = 0;
    for (let l = 4; l >= level; l--) tag = tag * 512 + x64Index(vpn, l);
    return tag;
  }
  private hostRefs(gfn: number): number {
    for (let l = 2; l <= this.hostLevels; l++) if (ScannedWalker.hit(this.host[l - 2]!, Math.floor(gfn / 2 ** (9 * (l - 1))) * 4096)) return l - 1;
    return this.hostLevels;
  }
  refs(vpn: number, pcid: number, tables: Int32Array, frame: number): number {
    let start = this.levels;
    for (let l = 2; l <= this.levels; l++) {
      if (ScannedWalker.hit(this.guest[l - 2]!, this.tag(vpn, l) * 4096 + pcid)) {
        start = l - 1;
        break;
      }
    }
    let refs = start;
    if (this.hostLevels > 0) {
      for (let l = start; l >= 1; l--) refs += this.hostRefs(tables[l]!);
      refs += this.hostRefs(frame);
    }
    return refs;
  }
  flushPcid(pcid: number): void {
    for (const c of this.guest) c.keys = c.keys.map((k) => (k >= 0 && k % 4096 === pcid ? -1 : k));
  }
  flushGuest(): void {
    for (const c of this.guest) c.keys.fill(-1);
  }
  flushHost(): void {
    for (const c of this.host) c.keys.fill(-1);
  }
}

describe('page walker: hashed caches', () => {
  it('give the references of caches searched entry by entry, over random walks and flushes', () => {
    const rng = new Rng(12345);
    const rnd = (n: number): number => rng.below(n);
    for (const [levels, hostLevels, entries] of [
      [4, 0, 32],
      [4, 4, 8],
      [2, 4, 3],
      [4, 4, 1],
      [2, 4, 0],
      [4, 4, 600],
    ] as const) {
      const w = new PageWalker(levels, hostLevels, entries, newGroup('walk'));
      const ref = new ScannedWalker(levels, hostLevels, entries);
      let total = 0;
      for (let i = 0; i < 20_000; i++) {
        const op = rnd(100);
        if (op === 0) {
          const p = rnd(4);
          w.flushPcid(p);
          ref.flushPcid(p);
        } else if (op === 1) {
          w.flushGuest();
          ref.flushGuest();
        } else if (op === 2) {
          w.flushHost();
          ref.flushHost();
        } else {
          // Pages clustered as a process's are (a few regions), in user and kernel halves of x86-64.
          const region = rnd(6);
          const vpn = levels === 4 ? [0x400, 0x7ffff000, 0x800000000 - 64, 0xffff8000000 + 0x100, 0xffff8000000 + 0x40000, 0x1000][region]! + rnd(2048) : region * 4096 + rnd(4096);
          const tables = Int32Array.from([0, ...Array.from({ length: levels }, () => 1000 + rnd(3000))]);
          const frame = rnd(1 << 20);
          const pcid = rnd(4);
          const got = w.refs(vpn, pcid, tables, frame);
          expect(got).toBe(ref.refs(vpn, pcid, tables, frame));
          total += got;
        }
      }
      expect(total).toBeGreaterThan(0);
    }
  });
});

