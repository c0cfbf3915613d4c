import { describe, expect, it } from 'vitest';
import { EXIT_REASON } from '../../../../../shared/exits.js';
import { LEVEL_PD, LEVEL_PT } from '../../../../../worker/hypervisor/kvm/shadow/spte.js';
import { tinyGuest, USER_VPN } from './fixture.js';

const { CR_ACCESS, EXCEPTION_NMI } = EXIT_REASON;

describe('shadow MMU, kvm-trunk (cached)', () => {
  it('builds a root on the first cr3 load, faults the page in once, and reuses both on the next visit', () => {
    const g = tinyGuest({ shadow: 'cached' });
    const a = g.newAddressSpace();
    const b = g.newAddressSpace();

    g.platform.loadCr3(g.v, a.pd, 0, false);
    expect(g.exits(CR_ACCESS)).toBe(1);
    // A 32-bit directory is four PAE roots, one per 1 GiB quadrant, all made at the load.
    expect(g.mmu.stat.pagesCreated).toBe(4);
    const rootA = g.state.rootHpa;
    expect(g.mmu.find(a.pd, LEVEL_PD, 0)).toBe(rootA);
    expect([1, 2, 3].map((q) => g.mmu.find(a.pd, LEVEL_PD, q))).toEqual([...g.state.roots.slice(1)]);

    g.touch(USER_VPN); // TLB miss, no shadow entry: a shadow page fault builds the shadow of the PT's first half
    expect(g.exits(EXCEPTION_NMI)).toBe(1);
    expect(g.mmu.stat.shadowFaults).toBe(1);
    expect(g.mmu.stat.pagesCreated).toBe(5);
    expect(g.mmu.find(a.pt, LEVEL_PT, 0)).toBeGreaterThanOrEqual(0);
    expect(g.mmu.find(a.pt, LEVEL_PT, 1)).toBe(-1);
    g.touch(USER_VPN); // TLB hit
    expect(g.v.tlb.stat.misses).toBe(1);

    g.platform.loadCr3(g.v, b.pd, 0, false);
    g.touch(USER_VPN);
    expect(g.mmu.stat.pagesCreated).toBe(10);

    g.platform.loadCr3(g.v, a.pd, 0, false); // the cached roots come back: no new page, no fault
    expect(g.state.rootHpa).toBe(rootA);
    g.touch(USER_VPN);
    expect(g.mmu.stat.pagesCreated).toBe(10);
    expect(g.mmu.stat.shadowFaults).toBe(2);
    expect(g.exits(CR_ACCESS)).toBe(3);
    // Every exit flushed the whole TLB: 3 cr3 loads + 2 faults.
    expect(g.v.tlb.stat.flushesFull).toBe(5);
  });

  it('write-protects shadowed guest page tables: writes trap and are emulated, the third in a row zaps', () => {
    const g = tinyGuest({ shadow: 'cached' });
    const a = g.newAddressSpace();
    g.platform.loadCr3(g.v, a.pd, 0, false);
    g.touch(USER_VPN);
    const sp = g.mmu.find(a.pt, LEVEL_PT, 0);
    expect(g.mmu.isShadowed(a.pt)).toBe(true);

    g.platform.ptWrite(g.v, a.pt, USER_VPN & 1023); // pte_clear of the mapped page
    expect(g.mmu.stat.ptWritesEmulated).toBe(1);
    expect(g.exits(EXCEPTION_NMI)).toBe(2);
    expect(g.mmu.translate(g.state.roots, USER_VPN)).toBe(-1);
    expect(g.mmu.find(a.pt, LEVEL_PT, 0)).toBe(sp);

    g.platform.ptWrite(g.v, a.pt, 1);
    g.platform.ptWrite(g.v, a.pt, 2); // flooded: kvm_mmu_zap_page
    expect(g.mmu.stat.pagesZapped).toBe(1);
    expect(g.mmu.isShadowed(a.pt)).toBe(false);
    g.platform.ptWrite(g.v, a.pt, 3); // no longer write-protected: no trap
    expect(g.mmu.stat.ptWritesEmulated).toBe(3);
    expect(g.exits(EXCEPTION_NMI)).toBe(4);
  });

  it('evicts the oldest unpinned pages when the pool runs low (KVM_MIN_FREE_MMU_PAGES, KVM_REFILL_PAGES)', () => {
    const g = tinyGuest({ shadow: 'cached', mmuPages: 32 });
    for (let i = 0; i < 7; i++) {
      g.platform.loadCr3(g.v, g.newAddressSpace().pd, 0, false);
      g.touch(USER_VPN);
    }
    // Each address space takes 5 pages (four roots and a page table's half). After the 6th
    // cr3 load 3 of the 32 are free: its shadow fault finds 3 < 5 and zaps from the tail,
    // the oldest first (FIFO by creation: the 1st's roots and table, the 2nd's, ...), until
    // 25 are free: 22 evictions, the last the 5th's second root; its table takes one. The
    // 7th address space takes 5 more.
    expect(g.mmu.stat.pagesCreated).toBe(35);
    expect(g.mmu.stat.pagesEvicted).toBe(22);
    expect(g.mmu.freePages).toBe(19);
    // The current root is pinned and survived.
    expect(g.mmu.rootCount[g.state.rootHpa]).toBe(1);
  });
});

describe('shadow MMU of 2.6.20: details', () => {
  it('a shadow fault between emulated writes does not reset the fork detector (only a write to another frame does)', () => {
    const g = tinyGuest({ shadow: 'cached' });
    const a = g.newAddressSpace();
    g.platform.loadCr3(g.v, a.pd, 0, false);
    g.touch(USER_VPN);
    g.platform.ptWrite(g.v, a.pt, 7);
    g.platform.ptWrite(g.v, a.pt, 8);
    g.touch(USER_VPN); // a fault: the entry was dropped by neither write, but the TLB went with the exits
    g.platform.ptWrite(g.v, a.pt, 9); // the third in a row to a.pt: flooded
    expect(g.mmu.stat.pagesZapped).toBe(1);
    const b = g.newAddressSpace();
    g.platform.loadCr3(g.v, b.pd, 0, false);
    g.touch(USER_VPN);
    g.platform.ptWrite(g.v, b.pt, 1);
    g.platform.ptWrite(g.v, b.pd, 1); // another frame: the count starts again
    g.platform.ptWrite(g.v, b.pt, 2);
    expect(g.mmu.stat.pagesZapped).toBe(1);
  });

  it('a lookup walks its bucket: the four roots of a directory share one chain', () => {
    const g = tinyGuest({ shadow: 'cached' });
    const a = g.newAddressSpace();
    g.platform.loadCr3(g.v, a.pd, 0, false);
    g.mmu.drainProbes();
    // A miss for another role of the same frame walks the whole chain: the four roots.
    expect(g.mmu.lookup(a.pd, LEVEL_PT, 0)).toBe(-1);
    expect(g.mmu.drainProbes()).toBe(4);
    // A hit walks half of it, on average.
    g.mmu.lookup(a.pd, LEVEL_PD, 2);
    expect(g.mmu.drainProbes()).toBe(2.5);
  });
});

describe('shadow MMU, kvm-upstream (release what is not global on cr3 load)', () => {
  it('keeps one set of roots, releases the user page tables at each cr3 load, and faults their pages again', () => {
    const g = tinyGuest({ shadow: 'discard' });
    const a = g.newAddressSpace();
    const b = g.newAddressSpace();
    g.platform.loadCr3(g.v, a.pd, 0, false);
    g.touch(USER_VPN);
    g.platform.loadCr3(g.v, b.pd, 0, false);
    g.touch(USER_VPN);
    g.platform.loadCr3(g.v, a.pd, 0, false);
    g.touch(USER_VPN);
    expect(g.mmu.stat.shadowFaults).toBe(3);
    // The four roots once, then a user table per visit; each load releases the last one.
    expect(g.mmu.stat.pagesCreated).toBe(7);
    expect(g.mmu.stat.pagesZapped).toBe(2);
    expect(g.mmu.usedPages).toBe(5);
    // No write protection: a page-table write is a plain store.
    g.platform.ptWrite(g.v, a.pt, 0);
    expect(g.mmu.stat.ptWritesEmulated).toBe(0);
    expect(g.exits(EXCEPTION_NMI)).toBe(3);
  });

  it('keeps a kernel table (every entry global) across cr3 loads: its pages do not fault again', () => {
    const g = tinyGuest({ shadow: 'discard' });
    const a = g.newAddressSpace();
    const b = g.newAddressSpace();
    const kernelVpn = 0xc0100;
    const kpt = g.kernelTable(kernelVpn, [a.pd, b.pd]);
    g.platform.loadCr3(g.v, a.pd, 0, false);
    g.touch(kernelVpn);
    g.platform.loadCr3(g.v, b.pd, 0, false);
    g.touch(kernelVpn);
    expect(g.mmu.stat.shadowFaults).toBe(1);
    expect(g.mmu.find(kpt, LEVEL_PT, 0)).toBeGreaterThanOrEqual(0);
  });
});
