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

/** One paging-structure cache: (tag, PCID) pairs, round robin. */
class StructureCache {
  private readonly keys: Float64Array;
  private next = 0;

  constructor(entries: number) {
    this.keys = new Float64Array(entries).fill(-1);
  }

  /** Is `key` cached? If not, cache it. */
  hit(key: number): boolean {
    const k = this.keys;
    for (let i = 0; i < k.length; i++) if (k[i] === key) return true;
    if (k.length > 0) {
      k[this.next] = key;
      this.next = (this.next + 1) % k.length;
    }
    return false;
  }

  /** Entries whose PCID (the key modulo 4096) is `pcid` go. */
  flushPcid(pcid: number): void {
    const k = this.keys;
    for (let i = 0; i < k.length; i++) if (k[i]! >= 0 && k[i]! % 4096 === pcid) k[i] = -1;
  }

  flushAll(): void {
    this.keys.fill(-1);
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
      if (this.guest[l - 2]!.hit(entryTag(this.levels, vpn, l) * 4096 + pcid)) {
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
      if (this.host[l - 2]!.hit(Math.floor(gfn / 2 ** (LEVEL_BITS * (l - 1))) * 4096)) return l - 1;
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
