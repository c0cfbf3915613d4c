import { describe, expect, it } from 'vitest';
import { EXIT_REASON } from '../../../../../shared/exits.js';
import { tinyGuest } from './fixture.js';

const { CR_ACCESS } = EXIT_REASON;

/** The guest's paravirt write_cr3: look up para_state, load host_cr3 on a hit. */
function writeCr3(g: ReturnType<typeof tinyGuest>, pd: number) {
  const idx = g.para!.lookup(pd);
  if (idx >= 0) g.platform.loadCachedCr3(g.v, idx, pd);
  else g.platform.loadCr3(g.v, pd, 0, false);
}

describe('paravirt cr3 cache (para_state)', () => {
  it('a miss exits and fills the round-robin slot; a hit loads host_cr3 without an exit', () => {
    const g = tinyGuest({ shadow: 'cached', paravirt: true, cacheSize: 2 });
    const para = g.para!;
    const [a, b, c] = [g.newAddressSpace(), g.newAddressSpace(), g.newAddressSpace()];

    writeCr3(g, a.pd); // miss -> slot 0
    writeCr3(g, b.pd); // miss -> slot 1
    expect(g.exits(CR_ACCESS)).toBe(2);
    expect([...para.guestCr3]).toEqual([a.pd, b.pd]);
    expect(para.cr3CacheIdx).toBe(0);
    for (const root of para.hostCr3) expect(g.v.vmx.isCr3Target(root)).toBe(true);
    expect(g.v.vmx.isCr3Target(-2)).toBe(false);
    const rootA = para.hostCr3[0]!;
    expect(g.mmu.rootCount[rootA]).toBe(1); // pinned by the cache only (b is current)

    const flushesBefore = g.v.tlb.stat.flushesFull;
    writeCr3(g, a.pd); // hit: CR3-target value, no exit, only non-global entries flushed
    expect(g.exits(CR_ACCESS)).toBe(2);
    expect(g.v.tlb.stat.flushesFull).toBe(flushesBefore);
    expect(g.v.tlb.stat.flushesNonGlobal).toBe(1);
    expect(g.state.rootHpa).toBe(rootA);
    expect(g.v.cr3).toBe(a.pd);

    writeCr3(g, c.pd); // miss -> slot 0 again (wrapped), evicting a
    expect(g.exits(CR_ACCESS)).toBe(3);
    expect([...para.guestCr3]).toEqual([c.pd, b.pd]);
    expect(para.cr3CacheIdx).toBe(1);
    expect(g.mmu.rootCount[rootA]).toBe(0); // unpinned: neither cached nor current
    expect({ lookups: para.stat.lookups, hits: para.stat.hits, misses: para.stat.misses, fills: para.stat.fills, evictions: para.stat.evictions }).toEqual({
      lookups: 4,
      hits: 1,
      misses: 3,
      fills: 3,
      evictions: 1,
    });
  });
});
