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

    g.platform.loadCr3(g.v, a.pd);
    expect(g.exits(CR_ACCESS)).toBe(1);
    expect(g.mmu.stat.pagesCreated).toBe(1);
    const rootA = g.state.rootHpa;
    expect(g.mmu.lookup(a.pd, LEVEL_PD)).toBe(rootA);

    g.touch(USER_VPN); // TLB miss, no shadow entry: a shadow page fault builds the PT shadow
    expect(g.exits(EXCEPTION_NMI)).toBe(1);
    expect(g.mmu.stat.shadowFaults).toBe(1);
    expect(g.mmu.stat.pagesCreated).toBe(2);
    expect(g.mmu.lookup(a.pt, LEVEL_PT)).toBeGreaterThanOrEqual(0);
    g.touch(USER_VPN); // TLB hit
    expect(g.v.tlb.stat.misses).toBe(1);

    g.platform.loadCr3(g.v, b.pd);
    g.touch(USER_VPN);
    expect(g.mmu.stat.pagesCreated).toBe(4);

    g.platform.loadCr3(g.v, a.pd); // the cached root comes back: no new page, no fault
    expect(g.state.rootHpa).toBe(rootA);
    g.touch(USER_VPN);
    expect(g.mmu.stat.pagesCreated).toBe(4);
    expect(g.mmu.stat.shadowFaults).toBe(2);
    expect(g.exits(CR_ACCESS)).toBe(3);
    // Every exit flushed the whole TLB: 3 cr3 loads + 2 faults.
    expect(g.v.tlb.stat.flushesFull).toBe(5);
  });

  it('write-protects shadowed guest page tables: writes trap and are emulated, the third in a row zaps', () => {
    const g = tinyGuest({ shadow: 'cached' });
    const a = g.newAddressSpace();
    g.platform.loadCr3(g.v, a.pd);
    g.touch(USER_VPN);
    const sp = g.mmu.lookup(a.pt, LEVEL_PT);
    expect(g.mmu.isShadowed(a.pt)).toBe(true);

    g.platform.ptWrite(g.v, a.pt, USER_VPN & 1023); // pte_clear of the mapped page
    expect(g.mmu.stat.ptWritesEmulated).toBe(1);
    expect(g.exits(EXCEPTION_NMI)).toBe(2);
    expect(g.mmu.translate(g.state.rootHpa, USER_VPN)).toBe(-1);
    expect(g.mmu.lookup(a.pt, LEVEL_PT)).toBe(sp);

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
    for (let i = 0; i < 15; i++) {
      g.platform.loadCr3(g.v, g.newAddressSpace().pd);
      g.touch(USER_VPN);
    }
    // 14 address spaces take 28 of the 32 pages. The 15th cr3 load finds 4 < 5 free and
    // zaps from the tail (oldest first) until 25 are free: 21 evictions. Then its root
    // and page table take 2 more.
    expect(g.mmu.stat.pagesCreated).toBe(30);
    expect(g.mmu.stat.pagesEvicted).toBe(21);
    expect(g.mmu.freePages).toBe(23);
    // The current root is pinned and survived.
    expect(g.mmu.rootCount[g.state.rootHpa]).toBe(1);
  });
});

describe('shadow MMU, kvm-upstream (discard on cr3 load)', () => {
  it('rebuilds the root and faults every page again after each cr3 load', () => {
    const g = tinyGuest({ shadow: 'discard' });
    const a = g.newAddressSpace();
    const b = g.newAddressSpace();
    g.platform.loadCr3(g.v, a.pd);
    g.touch(USER_VPN);
    g.platform.loadCr3(g.v, b.pd);
    g.touch(USER_VPN);
    g.platform.loadCr3(g.v, a.pd);
    g.touch(USER_VPN);
    expect(g.mmu.stat.shadowFaults).toBe(3);
    expect(g.mmu.stat.pagesCreated).toBe(6);
    expect(g.mmu.stat.pagesZapped).toBe(4);
    expect(g.mmu.usedPages).toBe(2);
    // No write protection: a page-table write is a plain store.
    g.platform.ptWrite(g.v, a.pt, 0);
    expect(g.mmu.stat.ptWritesEmulated).toBe(0);
    expect(g.exits(EXCEPTION_NMI)).toBe(3);
  });
});
