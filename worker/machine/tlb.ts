/**
 * A per-vCPU translation lookaside buffer: `sets` x `ways` entries tagged by virtual
 * page number and by PCID, each with its global bit (Intel SDM vol. 3, 4.10: a mov to
 * cr3 drops the non-global entries of the PCID it loads unless bit 63 says not to; a
 * global entry serves every PCID; a VM exit/entry without VPID drops everything). A
 * guest without PCID tags everything 0.
 *
 * A second level (the STLB of a Skylake or Zen core, `l2`) backs the first: a first-level
 * miss that hits it costs `l2Hit` cycles and refills the first level; a miss in both is a
 * page walk, which fills both. Flushes and invalidations reach both levels.
 *
 * The entries in use are also kept in dense lists, so a flush touches only what is
 * valid (as v86 does), not the whole array.
 */
import { newGroup, type TlbStats } from '../../shared/stats.js';
import { TlbIndex } from './tlb-index.js';

/** What a second-level hit is charged to: the vCPU's clock. */
export interface ClockOwner {
  clock: number;
}

/** PCIDs (CR3 bits 11:0). */
const PCIDS = 4096;
/** The PCID field of a global entry's tag: above every PCID, so a global entry matches whatever PCID is current. */
const GLOBAL_TAG = PCIDS;

/** A slot's tag: the VPN and the PCID the translation was made under (GLOBAL_TAG for a global one), as one number to compare. */
const tagOf = (vpn: number, pcid: number): number => vpn * 8192 + pcid;

export class Tlb {
  readonly sets: number;
  readonly ways: number;
  /** Each slot's tag (tagOf: its VPN and PCID), or -1. */
  protected readonly tag: Float64Array;
  /** The PCID each slot's translation was made under. */
  private readonly pcidOf: Uint16Array;
  /** 1 if the slot's translation is global. */
  private readonly global: Uint8Array;
  /** Next way to replace, per set (round-robin replacement). */
  private readonly victim: Uint8Array;
  /**
   * The free ways of each set as bits (way w: bit w), for TLBs of up to 32 ways (null
   * beyond, where a fill looks through the set): a fill takes the lowest free way, as the
   * search it replaces did, without looking at the others.
   */
  private readonly freeWays: Uint32Array | null;
  /**
   * Beyond 32 ways (Zen 2's fully associative L1 DTLB of 64), the slots by tag instead,
   * kept here and read by IndexedTlb's lookup (newTlb makes one): comparing every way of a
   * 64-way set at every page touch was a third of such a run.
   */
  protected readonly index: TlbIndex | null;
  /**
   * Dense lists of the valid slots, one for non-global and one for global entries, and
   * each slot's position in its list: a mov to cr3 walks only the non-global list.
   */
  private readonly userList: Int32Array;
  private readonly globalList: Int32Array;
  private nUser = 0;
  private nGlobal = 0;
  private readonly pos: Int32Array;
  /**
   * Per PCID, a doubly linked list of its non-global slots, so a flush of one PCID finds
   * its entries without looking at the others'. Made at the first flushPcid (only guests
   * of today flush by PCID) from the slots valid then.
   */
  private pcHead: Int32Array | null = null;
  private pcNext = new Int32Array(0);
  private pcPrev = new Int32Array(0);
  /** The PCID of the loaded cr3 (0 without PCID), in both levels. */
  protected cur = 0;
  /** The second level, or null. */
  private l2: Tlb | null = null;
  private l2Hit = 0;
  private owner: ClockOwner | null = null;
  /** First-level misses the second level served (a counter of the vCPU's `walk` group). */
  private l2Stat: { stlbHits: number } | null = null;
  /** Misses (walks), full flushes (VM exit/entry without VPID, QEMU's tlb_flush) and non-global ones (mov to cr3). */
  readonly stat: TlbStats;

  constructor(entries: number, ways: number, stat: TlbStats = newGroup('tlb')) {
    this.stat = stat;
    if (entries % ways !== 0) throw new RangeError(`TLB of ${entries} entries is not a multiple of ${ways} ways`);
    this.sets = entries / ways;
    if ((this.sets & (this.sets - 1)) !== 0) throw new RangeError(`TLB set count ${this.sets} must be a power of two`);
    this.ways = ways;
    this.tag = new Float64Array(entries).fill(-1);
    this.pcidOf = new Uint16Array(entries);
    this.global = new Uint8Array(entries);
    this.victim = new Uint8Array(this.sets);
    this.freeWays = ways <= 32 ? new Uint32Array(this.sets).fill(ways === 32 ? 0xffffffff : 2 ** ways - 1) : null;
    this.index = ways > 32 ? new TlbIndex(entries) : null;
    this.userList = new Int32Array(entries);
    this.globalList = new Int32Array(entries);
    this.pos = new Int32Array(entries).fill(-1);
  }

  /** Back this TLB with a second level of `entries` x `ways`, a hit in which costs `owner` `hitCycles`. */
  addSecondLevel(entries: number, ways: number, hitCycles: number, owner: ClockOwner, stat: { stlbHits: number }): void {
    this.l2 = newTlb(entries, ways, newGroup('tlb'));
    this.l2.cur = this.cur;
    this.l2Hit = hitCycles;
    this.owner = owner;
    this.l2Stat = stat;
  }

  get pcid(): number {
    return this.cur;
  }

  set pcid(p: number) {
    this.cur = p;
    if (this.l2 !== null) this.l2.cur = p;
  }

  /** Valid entries (of the first level). */
  get size(): number {
    return this.nUser + this.nGlobal;
  }

  /** True on a hit. A miss is counted; the caller resolves it and calls insert(). */
  lookup(vpn: number): boolean {
    if (this.find(vpn) >= 0) return true;
    const l2 = this.l2;
    if (l2 !== null) {
      const s = l2.find(vpn);
      if (s >= 0) {
        this.owner!.clock += this.l2Hit;
        this.l2Stat!.stlbHits++;
        this.put(vpn, l2.global[s] === 1, l2.pcidOf[s]!);
        return true;
      }
    }
    this.stat.misses++;
    return false;
  }

  /** The slot holding `vpn` for the current PCID (or globally), or -1: a compare with each way of its set, as the hardware does. */
  protected find(vpn: number): number {
    const base = (vpn & (this.sets - 1)) * this.ways;
    const mine = tagOf(vpn, this.cur);
    const global = tagOf(vpn, GLOBAL_TAG);
    for (let w = 0; w < this.ways; w++) {
      const t = this.tag[base + w];
      if (t === mine || t === global) return base + w;
    }
    return -1;
  }

  /** A walk's translation of `vpn` under the current PCID, into every level. */
  insert(vpn: number, isGlobal: boolean): void {
    this.put(vpn, isGlobal, this.cur);
    this.l2?.put(vpn, isGlobal, this.cur);
  }

  private put(vpn: number, isGlobal: boolean, pcid: number): void {
    const set = vpn & (this.sets - 1);
    const base = set * this.ways;
    let slot = -1;
    const free = this.freeWays;
    if (free !== null) {
      const bits = free[set]!;
      // The lowest free way: the lowest set bit.
      if (bits !== 0) slot = base + 31 - Math.clz32(bits & -bits);
    } else {
      for (let w = 0; w < this.ways; w++) {
        if (this.tag[base + w] === -1) {
          slot = base + w;
          break;
        }
      }
    }
    if (slot < 0) {
      slot = base + this.victim[set]!;
      this.victim[set] = (this.victim[set]! + 1) % this.ways;
      this.drop(slot);
    }
    this.tag[slot] = tagOf(vpn, isGlobal ? GLOBAL_TAG : pcid);
    if (free !== null) free[set] = free[set]! & ~(1 << (slot - base));
    else this.index!.add(slot, this.tag[slot]!);
    this.pcidOf[slot] = pcid;
    if (isGlobal) {
      this.global[slot] = 1;
      this.pos[slot] = this.nGlobal;
      this.globalList[this.nGlobal++] = slot;
    } else {
      this.global[slot] = 0;
      this.pos[slot] = this.nUser;
      this.userList[this.nUser++] = slot;
      if (this.pcHead !== null) this.link(slot);
    }
  }

  /** Slot `s` (non-global) joins its PCID's list. */
  private link(s: number): void {
    const head = this.pcHead!;
    const p = this.pcidOf[s]!;
    const n = head[p]!;
    this.pcNext[s] = n;
    this.pcPrev[s] = -1;
    if (n >= 0) this.pcPrev[n] = s;
    head[p] = s;
  }

  /** Slot `s` (non-global) leaves its PCID's list. */
  private unlink(s: number): void {
    const n = this.pcNext[s]!;
    const p = this.pcPrev[s]!;
    if (p >= 0) this.pcNext[p] = n;
    else this.pcHead![this.pcidOf[s]!] = n;
    if (n >= 0) this.pcPrev[n] = p;
  }

  /** invlpg: drop the entry for one page (the current PCID's, or a global one). */
  invalidate(vpn: number): void {
    const slot = this.find(vpn);
    if (slot >= 0) this.drop(slot);
    this.l2?.invalidate(vpn);
  }

  /** VM exit/entry without VPID, or a soft-MMU flush: everything goes. */
  flushAll(): void {
    this.clearPcidLists();
    this.clearList(this.userList, this.nUser);
    this.clearList(this.globalList, this.nGlobal);
    this.nUser = this.nGlobal = 0;
    this.stat.flushesFull++;
    this.l2?.flushAll();
  }

  /** mov to cr3 without PCID: non-global entries go, global (kernel) ones stay. */
  flushNonGlobal(): void {
    this.clearPcidLists();
    this.clearList(this.userList, this.nUser);
    this.nUser = 0;
    this.stat.flushesNonGlobal++;
    this.l2?.flushNonGlobal();
  }

  /** mov to cr3 of PCID `pcid` without the no-flush bit: that PCID's non-global entries go. */
  flushPcid(pcid: number): void {
    if (this.pcHead === null) {
      this.pcHead = new Int32Array(PCIDS).fill(-1);
      this.pcNext = new Int32Array(this.tag.length);
      this.pcPrev = new Int32Array(this.tag.length);
      for (let i = 0; i < this.nUser; i++) this.link(this.userList[i]!);
    }
    for (let s = this.pcHead[pcid]!; s >= 0; ) {
      const next = this.pcNext[s]!;
      this.drop(s);
      s = next;
    }
    this.stat.flushesNonGlobal++;
    this.l2?.flushPcid(pcid);
  }

  /** Every non-global entry goes: each PCID's list is empty. */
  private clearPcidLists(): void {
    const head = this.pcHead;
    if (head === null) return;
    for (let i = 0; i < this.nUser; i++) head[this.pcidOf[this.userList[i]!]!] = -1;
  }

  private clearList(list: Int32Array, n: number): void {
    const free = this.freeWays;
    for (let i = 0; i < n; i++) {
      const s = list[i]!;
      if (free !== null) this.freeWay(free, s);
      else this.index!.remove(s, this.tag);
      this.tag[s] = -1;
      this.pos[s] = -1;
    }
  }

  /** Slot `s` is free: its way's bit in its set's mask. */
  private freeWay(free: Uint32Array, s: number): void {
    const set = (s / this.ways) | 0;
    free[set] = free[set]! | (1 << (s - set * this.ways));
  }

  private drop(s: number): void {
    const p = this.pos[s]!;
    if (this.global[s]) {
      const last = this.globalList[--this.nGlobal]!;
      this.globalList[p] = last;
      this.pos[last] = p;
    } else {
      if (this.pcHead !== null) this.unlink(s);
      const last = this.userList[--this.nUser]!;
      this.userList[p] = last;
      this.pos[last] = p;
    }
    if (this.freeWays !== null) this.freeWay(this.freeWays, s);
    else this.index!.remove(s, this.tag);
    this.tag[s] = -1;
    this.pos[s] = -1;
  }
}

/**
 * A TLB of more than 32 ways, whose lookup goes through the index of its tags. A class of
 * its own, so that the lookup of every other TLB stays the compare of its ways and nothing else.
 */
class IndexedTlb extends Tlb {
  protected override find(vpn: number): number {
    const index = this.index!;
    // Both may be held (a global entry made while another PCID's was there): the lower way answers, as a compare of the ways in order would.
    const a = index.find(tagOf(vpn, this.cur), this.tag);
    const b = index.find(tagOf(vpn, GLOBAL_TAG), this.tag);
    return a < 0 ? b : b < 0 || a < b ? a : b;
  }
}

/** A TLB of `entries` x `ways`: an IndexedTlb beyond 32 ways. */
export function newTlb(entries: number, ways: number, stat: TlbStats = newGroup('tlb')): Tlb {
  return ways > 32 ? new IndexedTlb(entries, ways, stat) : new Tlb(entries, ways, stat);
}
