/**
 * A per-vCPU translation lookaside buffer: `sets` x `ways` entries tagged by virtual
 * page number, each with its global bit (Intel SDM vol. 3, 4.10: a mov to cr3 drops
 * non-global entries; a VM exit/entry without VPID drops all of them).
 *
 * The entries in use are also kept in dense lists, so a flush touches only what is
 * valid (as v86 does), not the whole array.
 */
import { newGroup, type TlbStats } from '../../shared/stats.js';

export class Tlb {
  readonly sets: number;
  readonly ways: number;
  /** VPN held by each slot, or -1. */
  private readonly tag: Int32Array;
  /** 1 if the slot's translation is global. */
  private readonly global: Uint8Array;
  /** Next way to replace, per set (round-robin replacement). */
  private readonly victim: Uint8Array;
  /**
   * Dense lists of the valid slots, one for non-global and one for global entries, and
   * each slot's position in its list: a mov to cr3 walks only the non-global list.
   */
  private readonly userList: Int32Array;
  private readonly globalList: Int32Array;
  private nUser = 0;
  private nGlobal = 0;
  private readonly pos: Int32Array;
  /** Misses, full flushes (VM exit/entry without VPID, QEMU's tlb_flush) and non-global ones (mov to cr3). */
  readonly stat: TlbStats;

  constructor(entries: number, ways: number, stat: TlbStats = newGroup('tlb')) {
    this.stat = stat;
    if (entries % ways !== 0) throw new RangeError(`TLB of ${entries} entries is not a multiple of ${ways} ways`);
    this.sets = entries / ways;
    if ((this.sets & (this.sets - 1)) !== 0) throw new RangeError(`TLB set count ${this.sets} must be a power of two`);
    this.ways = ways;
    this.tag = new Int32Array(entries).fill(-1);
    this.global = new Uint8Array(entries);
    this.victim = new Uint8Array(this.sets);
    this.userList = new Int32Array(entries);
    this.globalList = new Int32Array(entries);
    this.pos = new Int32Array(entries).fill(-1);
  }

  /** Valid entries. */
  get size(): number {
    return this.nUser + this.nGlobal;
  }

  /** True on a hit. A miss is counted; the caller resolves it and calls insert(). */
  lookup(vpn: number): boolean {
    if (this.find(vpn) >= 0) return true;
    this.stat.misses++;
    return false;
  }

  /** The slot holding `vpn`, or -1: a compare with each way of its set, as the hardware does. */
  private find(vpn: number): number {
    const base = (vpn & (this.sets - 1)) * this.ways;
    for (let w = 0; w < this.ways; w++) if (this.tag[base + w] === vpn) return base + w;
    return -1;
  }

  insert(vpn: number, isGlobal: boolean): void {
    const set = vpn & (this.sets - 1);
    const base = set * this.ways;
    let slot = -1;
    for (let w = 0; w < this.ways; w++) {
      if (this.tag[base + w] === -1) {
        slot = base + w;
        break;
      }
    }
    if (slot < 0) {
      slot = base + this.victim[set]!;
      this.victim[set] = (this.victim[set]! + 1) % this.ways;
      this.drop(slot);
    }
    this.tag[slot] = vpn;
    if (isGlobal) {
      this.global[slot] = 1;
      this.pos[slot] = this.nGlobal;
      this.globalList[this.nGlobal++] = slot;
    } else {
      this.global[slot] = 0;
      this.pos[slot] = this.nUser;
      this.userList[this.nUser++] = slot;
    }
  }

  /** invlpg: drop the entry for one page, global or not. */
  invalidate(vpn: number): void {
    const slot = this.find(vpn);
    if (slot >= 0) this.drop(slot);
  }

  /** VM exit/entry without VPID, or a soft-MMU flush: everything goes. */
  flushAll(): void {
    this.clearList(this.userList, this.nUser);
    this.clearList(this.globalList, this.nGlobal);
    this.nUser = this.nGlobal = 0;
    this.stat.flushesFull++;
  }

  /** mov to cr3: non-global entries go, global (kernel) ones stay. */
  flushNonGlobal(): void {
    this.clearList(this.userList, this.nUser);
    this.nUser = 0;
    this.stat.flushesNonGlobal++;
  }

  private clearList(list: Int32Array, n: number): void {
    for (let i = 0; i < n; i++) {
      const s = list[i]!;
      this.tag[s] = -1;
      this.pos[s] = -1;
    }
  }

  private drop(s: number): void {
    const p = this.pos[s]!;
    if (this.global[s]) {
      const last = this.globalList[--this.nGlobal]!;
      this.globalList[p] = last;
      this.pos[last] = p;
    } else {
      const last = this.userList[--this.nUser]!;
      this.userList[p] = last;
      this.pos[last] = p;
    }
    this.tag[s] = -1;
    this.pos[s] = -1;
  }
}
