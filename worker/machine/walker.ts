/**
 * The page walker of a CPU of today, as far as its cost goes: how many memory references
 * a TLB miss makes, and what its paging-structure caches save (Intel SDM vol. 3, 4.10.3:
 * the PML4, PDPTE and PDE caches, tagged by PCID; a hit at a level starts the walk below
 * it). Under EPT/NPT every guest-physical address the walk produces (each guest table's,
 * and the data page's) is translated by a walk of the host's four levels, with caches of
 * its own (SDM vol. 3, "Caching Translation Information"): a cold walk of a four-level
 * guest makes (4 + 1)(4 + 1) - 1 = 24 references, of a two-level one 14 (Bhargava et al.,
 * ASPLOS 2008). The caches hold `entries` each, replaced round robin.
 *
 * A walk costs `tlbWalk` for its last reference and the fill, and `walkRef` for every
 * reference before it.
 */
import type { WalkStats } from '../../shared/stats.js';
import { pdIndex, x64Index } from './paging.js';

/** Bits of the frame number each level of the EPT indexes. */
const LEVEL_BITS = 9;

/** Which entry of level `level` maps `vpn`: the indices from the top down to it, as one number (i386: the PDE's index). */
function entryTag(levels: number, vpn: number, level: number): number {
  if (levels === 2) return pdIndex(vpn);
  let tag = 0;
  for (let l = 4; l >= level; l--) tag = tag * 512 + x64Index(vpn, l);
  return tag;
}

/**
 * One paging-structure cache: (tag, PCID) pairs, replaced round robin. The entries are
 * found through a hash of the pair (open addressing, linear probing, a deletion shifting
 * back what follows it), so a lookup costs the same at 32 entries or 4,096; which entries
 * the cache holds is the round robin's alone.
 */
class StructureCache {
  /** Each entry's tag (the indices of the entry it caches), or -1. */
  private readonly tags: Int32Array;
  private readonly pcids: Uint16Array;
  private next = 0;
  /** The hash: entry + 1 at each position, 0 for none. */
  private readonly index: Int32Array;
  private readonly mask: number;
  private readonly shift: number;
  /** Entries held for each PCID: a flush of a PCID stops once it has found them all. */
  private readonly live = new Uint16Array(4096);

  constructor(entries: number) {
    this.tags = new Int32Array(entries).fill(-1);
    this.pcids = new Uint16Array(entries);
    let bits = 1;
    while (1 << bits < entries * 2) bits++;
    this.index = new Int32Array(1 << bits);
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
  }

  private home(tag: number, pcid: number): number {
    return Math.imul(tag ^ Math.imul(pcid, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
  }

  /** Is (`tag`, `pcid`) cached? If not, cache it. */
  hit(tag: number, pcid: number): boolean {
    const index = this.index;
    for (let h = this.home(tag, pcid); ; h = (h + 1) & this.mask) {
      const e = index[h]! - 1;
      if (e < 0) break;
      if (this.tags[e] === tag && this.pcids[e] === pcid) return true;
    }
    const n = this.tags.length;
    if (n > 0) {
      const e = this.next;
      if (this.tags[e]! >= 0) {
        this.unindex(e);
        this.live[this.pcids[e]!]!--;
      }
      this.tags[e] = tag;
      this.pcids[e] = pcid;
      this.live[pcid]!++;
      let h = this.home(tag, pcid);
      while (index[h] !== 0) h = (h + 1) & this.mask;
      index[h] = e + 1;
      this.next = (e + 1) % n;
    }
    return false;
  }

  /** Entry `e` leaves the hash; the entries probed past it move back. */
  private unindex(e: number): void {
    const index = this.index;
    const mask = this.mask;
    let i = this.home(this.tags[e]!, this.pcids[e]!);
    while (index[i] !== e + 1) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
      const f = index[j]! - 1;
      const k = this.home(this.tags[f]!, this.pcids[f]!);
      // Entry f may fill the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? k <= i || k > j : k <= i && k > j) {
        index[i] = index[j]!;
        i = j;
      }
    }
    index[i] = 0;
  }

  /** Entries of PCID `pcid` go. */
  flushPcid(pcid: number): void {
    let left = this.live[pcid]!;
    for (let e = 0; left > 0; e++) {
      if (this.tags[e]! >= 0 && this.pcids[e] === pcid) {
        this.unindex(e);
        this.tags[e] = -1;
        left--;
      }
    }
    this.live[pcid] = 0;
  }

  flushAll(): void {
    for (let e = 0; e < this.tags.length; e++) if (this.tags[e]! >= 0) this.live[this.pcids[e]!] = 0;
    this.tags.fill(-1);
    this.index.fill(0);
  }
}

export class PageWalker {
  /** Paging-structure caches of the guest's (or the only) dimension: index 0 caches the level-2 entries (PDEs), up to levels - 2. */
  private readonly guest: StructureCache[] = [];
  /** Under EPT: the host dimension's caches, by guest frame, levels 2..4 of the EPT. */
  private readonly host: StructureCache[] = [];

  constructor(
    /** Levels of the guest's tables (2 or 4). */
    private readonly levels: number,
    /** Levels of the host's tables under EPT, 0 without. */
    private readonly hostLevels: number,
    entries: number,
    private readonly stat: WalkStats,
  ) {
    for (let l = 2; l <= levels; l++) this.guest.push(new StructureCache(entries));
    for (let l = 2; l <= hostLevels; l++) this.host.push(new StructureCache(entries));
  }

  /**
   * The references of a walk for `vpn` under `pcid`: the guest's levels from the lowest
   * one whose entry is cached, and under EPT the host walks of the gPAs of those tables
   * (`tableFrames[level]`, level 1..levels) and of the data page `frame`.
   */
  refs(vpn: number, pcid: number, tableFrames: Int32Array, frame: number): number {
    // Find the lowest level whose entry (pointing at the table below) is cached: a PDE-cache hit leaves the PT only.
    let start = this.levels;
    for (let l = 2; l <= this.levels; l++) {
      if (this.guest[l - 2]!.hit(entryTag(this.levels, vpn, l), pcid)) {
        start = l - 1;
        break;
      }
    }
    let refs = start;
    if (this.hostLevels > 0) {
      for (let l = start; l >= 1; l--) refs += this.hostRefs(tableFrames[l]!);
      refs += this.hostRefs(frame);
    }
    this.stat.walks++;
    this.stat.refs += refs;
    return refs;
  }

  /** References of the host's walk of guest frame `gfn` (the lowest cached EPT level first). */
  private hostRefs(gfn: number): number {
    for (let l = 2; l <= this.hostLevels; l++) {
      if (this.host[l - 2]!.hit(gfn >>> (LEVEL_BITS * (l - 1)), 0)) return l - 1;
    }
    return this.hostLevels;
  }

  /** A mov to cr3 of `pcid` that flushes: its cached guest entries go (the host's stay). */
  flushPcid(pcid: number): void {
    for (const c of this.guest) c.flushPcid(pcid);
  }

  /** Everything cached for the guest goes (a VPID flush, a VM exit without VPID). */
  flushGuest(): void {
    for (const c of this.guest) c.flushAll();
  }

  /** The host's EPT changed (INVEPT). */
  flushHost(): void {
    for (const c of this.host) c.flushAll();
  }
}
