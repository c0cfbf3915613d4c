/**
 * The page walker's references, derived by hand: a cold x86-64 walk reads the four levels;
 * under EPT each of the four guest tables' addresses and the data page's is walked through
 * the host's four levels first, (4 + 1)(4 + 1) - 1 = 24; an i386 guest's two levels on
 * EPT's four, (2 + 1)(4 + 1) - 1 = 14 (Bhargava et al., ASPLOS 2008). With the caches warm
 * only the PTE is read (and under EPT the PT's and the data page's host walks start at
 * the cached EPT PDE: one reference each).
 */
import { describe, expect, it } from 'vitest';
import { newGroup } from '../../../shared/stats.js';
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
