/**
 * fast_pgd_switch's search of the previous roots (roots.ts), step by step as the comment
 * in arch/x86/kvm/mmu/mmu.c draws it: a true LRU of current + N roots, the least recently
 * used freed on a miss; without a current root, a hit bubbles the rest up.
 */
import { describe, expect, it } from 'vitest';
import { ShadowPages64 } from '../../../../../worker/hypervisor/kvm/mmu/pages.js';
import { RootCache, rootKey } from '../../../../../worker/hypervisor/kvm/mmu/roots.js';

/** A pool with a root page for each of the frames 1..n, held once each as a cache would. */
function setup(n: number) {
  const pages = new ShadowPages64(64);
  const sp = [0, ...Array.from({ length: n }, (_, i) => pages.create(i + 1, 4))];
  return { pages, sp };
}

/** The cache's keys, current first, as frames (-1: empty). */
const frames = (c: RootCache) => [c.key, ...c.prevKey].map((k) => (k < 0 ? -1 : k / 4096));

/** The roots the cache's last call let go of. */
const freedBy = (c: RootCache): number[] => [...c.freed.subarray(0, c.nFreed)];

describe('previous roots (LRU)', () => {
  it('a hit at prev[i] makes it current, the old current prev[0], those before it one down', () => {
    const { pages, sp } = setup(4);
    const c = new RootCache(3);
    c.setCurrent(rootKey(1, 0), sp[1]!);
    c.prevKey.set([rootKey(2, 0), rootKey(3, 0), rootKey(4, 0)]);
    c.prevSp.set([sp[2]!, sp[3]!, sp[4]!]);
    expect(c.switchTo(pages, rootKey(3, 0))).toBe(true);
    expect(frames(c)).toEqual([3, 1, 2, 4]);
    expect(freedBy(c)).toEqual([]);
    expect(c.switchTo(pages, rootKey(3, 0))).toBe(true); // the current one
    expect(frames(c)).toEqual([3, 1, 2, 4]);
    expect(freedBy(c)).toEqual([]);
  });

  it('a miss frees the least recently used root and leaves the current slot empty, the others one down', () => {
    const { pages, sp } = setup(5);
    const c = new RootCache(3);
    c.setCurrent(rootKey(1, 0), sp[1]!);
    c.prevKey.set([rootKey(2, 0), rootKey(3, 0), rootKey(4, 0)]);
    c.prevSp.set([sp[2]!, sp[3]!, sp[4]!]);
    expect(c.switchTo(pages, rootKey(5, 0))).toBe(false);
    expect(freedBy(c)).toEqual([sp[4]]);
    expect(frames(c)).toEqual([-1, 1, 2, 3]);
  });

  it('the same page table under another PCID is another root (is_root_usable compares the whole pgd)', () => {
    const { pages, sp } = setup(1);
    const c = new RootCache(3);
    c.setCurrent(rootKey(1, 1), sp[1]!);
    expect(c.switchTo(pages, rootKey(1, 2))).toBe(false);
  });

  it('an invalid (zapped) root never serves', () => {
    const { pages, sp } = setup(2);
    const c = new RootCache(3);
    c.setCurrent(rootKey(1, 0), sp[1]!);
    c.prevKey[0] = rootKey(2, 0);
    c.prevSp[0] = sp[2]!;
    pages.rootCount[sp[2]!] = 1;
    pages.zap(sp[2]!);
    expect(pages.invalid[sp[2]!]).toBe(1);
    expect(c.switchTo(pages, rootKey(2, 0))).toBe(false);
  });

  it('without a current root a hit bubbles the later roots up and empties the last slot', () => {
    const { pages, sp } = setup(3);
    const c = new RootCache(3);
    c.prevKey.set([rootKey(1, 0), rootKey(2, 0), rootKey(3, 0)]);
    c.prevSp.set([sp[1]!, sp[2]!, sp[3]!]);
    expect(c.switchTo(pages, rootKey(2, 0))).toBe(true);
    expect(frames(c)).toEqual([2, 1, 3, -1]);
  });

  it('with no previous roots (N = 0) every other pgd misses and frees the current root', () => {
    const { pages, sp } = setup(2);
    const c = new RootCache(0);
    c.setCurrent(rootKey(1, 0), sp[1]!);
    expect(c.switchTo(pages, rootKey(2, 0))).toBe(false);
    expect(freedBy(c)).toEqual([sp[1]]);
  });
});

describe('roots freed from the cache', () => {
  it("kvm_invalidate_pcid frees the previous roots of the PCID, in order, and keeps the current one it names", () => {
    const { sp } = setup(4);
    const c = new RootCache(3);
    c.setCurrent(rootKey(1, 1), sp[1]!);
    c.prevKey.set([rootKey(2, 1), rootKey(3, 2), rootKey(4, 1)]);
    c.prevSp.set([sp[2]!, sp[3]!, sp[4]!]);
    expect(c.freePcid(1, sp[1]!)).toBe(false);
    expect(freedBy(c)).toEqual([sp[2], sp[4]]);
    expect(frames(c).map(Math.floor)).toEqual([1, -1, 3, -1]);
    // Another PCID's roots, the current one among them when it is not excepted: it goes last.
    c.setCurrent(rootKey(1, 2), sp[1]!);
    expect(c.freePcid(2, -1)).toBe(true);
    expect(freedBy(c)).toEqual([sp[3], sp[1]]);
    expect(frames(c).map(Math.floor)).toEqual([-1, -1, -1, -1]);
  });

  it('the obsolete roots (their shadow page zapped) leave every slot, the current one too', () => {
    const { pages, sp } = setup(3);
    const c = new RootCache(2);
    c.setCurrent(rootKey(1, 0), sp[1]!);
    c.prevKey.set([rootKey(2, 0), rootKey(3, 0)]);
    c.prevSp.set([sp[2]!, sp[3]!]);
    for (const s of [sp[1]!, sp[3]!]) {
      pages.rootCount[s] = 1;
      pages.zap(s);
    }
    expect(c.freeInvalid(pages)).toBe(true);
    expect(freedBy(c)).toEqual([sp[3], sp[1]]);
    expect(frames(c)).toEqual([-1, 2, -1]);
    expect(c.freeInvalid(pages)).toBe(false);
    expect(freedBy(c)).toEqual([]);
  });
});
