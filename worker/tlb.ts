/**
 * A per-vCPU translation lookaside buffer: `sets` x `ways` entries tagged by virtual
 * page number, each with its global bit (Intel SDM vol. 3, 4.10: a mov to cr3 drops
 * non-global entries; a VM exit/entry without VPID drops all of them).
 *
 * The entries in use are also kept in a dense list, so a flush touches only what is
 * valid (as v86 does), not the whole array.
 */
export class Tlb {
  readonly sets: number;
  readonly ways: number;
  /** VPN held by each slot, or -1. */
  private readonly tag: Int32Array;
  /** 1 if the slot's translation is global. */
  private readonly global: Uint8Array;
  /** Next way to replace, per set (round-robin replacement). */
  private readonly victim: Uint8Array;
  /** Dense list of valid slots, and each slot's position in it (-1 if invalid). */
  private readonly validList: Int32Array;
  private readonly validPos: Int32Array;
  private nValid = 0;

  misses = 0;
  flushesFull = 0;
  flushesNonGlobal = 0;

  constructor(entries: number, ways: number) {
    if (entries % ways !== 0) throw new RangeError(`TLB of ${entries} entries is not a multiple of ${ways} ways`);
    this.sets = entries / ways;
    if ((this.sets & (this.sets - 1)) !== 0) throw new RangeError(`TLB set count ${this.sets} must be a power of two`);
    this.ways = ways;
    this.tag = new Int32Array(entries).fill(-1);
    this.global = new Uint8Array(entries);
    this.victim = new Uint8Array(this.sets);
    this.validList = new Int32Array(entries);
    this.validPos = new Int32Array(entries).fill(-1);
  }

  get size(): number {
    return this.nValid;
  }

  /** True on a hit. A miss is counted; the caller resolves it and calls insert(). */
  lookup(vpn: number): boolean {
    const base = (vpn & (this.sets - 1)) * this.ways;
    for (let w = 0; w < this.ways; w++) if (this.tag[base + w] === vpn) return true;
    this.misses++;
    return false;
  }

  insert(vpn: number, isGlobal: boolean): void {
    const set = vpn & (this.sets - 1);
    const base = set * this.ways;
    let slot = -1;
    for (let w = 0; w < this.ways; w++) {
      const s = base + w;
      if (this.tag[s] === -1) {
        slot = s;
        break;
      }
    }
    if (slot < 0) {
      slot = base + this.victim[set]!;
      this.victim[set] = (this.victim[set]! + 1) % this.ways;
    } else {
      this.validPos[slot] = this.nValid;
      this.validList[this.nValid++] = slot;
    }
    this.tag[slot] = vpn;
    this.global[slot] = isGlobal ? 1 : 0;
  }

  /** invlpg: drop the entry for one page, global or not. */
  invalidate(vpn: number): void {
    const base = (vpn & (this.sets - 1)) * this.ways;
    for (let w = 0; w < this.ways; w++) if (this.tag[base + w] === vpn) this.drop(base + w);
  }

  /** VM exit/entry without VPID, or a soft-MMU flush: everything goes. */
  flushAll(): void {
    for (let i = 0; i < this.nValid; i++) {
      const s = this.validList[i]!;
      this.tag[s] = -1;
      this.validPos[s] = -1;
    }
    this.nValid = 0;
    this.flushesFull++;
  }

  /** mov to cr3: non-global entries go, global (kernel) ones stay. */
  flushNonGlobal(): void {
    let kept = 0;
    for (let i = 0; i < this.nValid; i++) {
      const s = this.validList[i]!;
      if (this.global[s]) {
        this.validPos[s] = kept;
        this.validList[kept++] = s;
      } else {
        this.tag[s] = -1;
        this.validPos[s] = -1;
      }
    }
    this.nValid = kept;
    this.flushesNonGlobal++;
  }

  private drop(s: number): void {
    const pos = this.validPos[s]!;
    const last = this.validList[--this.nValid]!;
    this.validList[pos] = last;
    this.validPos[last] = pos;
    this.tag[s] = -1;
    this.validPos[s] = -1;
  }
}
