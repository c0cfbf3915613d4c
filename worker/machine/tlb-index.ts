/**
 * An index of a TLB's slots by tag, for a TLB of many ways (Zen 2's fully associative L1
 * DTLB of 64): a lookup hashes the tag instead of comparing it with every way of its set.
 * It only finds slots: which slot an entry goes to, and which is replaced, is the TLB's
 * (tlb.ts). Open addressing over slot + 1 (0: none), linear probing, a deletion shifting
 * back what follows it (as the walker's paging-structure caches, walker.ts).
 *
 * A tag is a VPN and a PCID as one integer below 2^53 (tlb.ts tagOf); its hash mixes its
 * low and high 32 bits.
 */
export class TlbIndex {
  private readonly cells: Int32Array;
  private readonly mask: number;
  private readonly shift: number;

  constructor(slots: number) {
    let bits = 1;
    while (1 << bits < slots * 2) bits++;
    this.cells = new Int32Array(1 << bits);
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
  }

  private home(tag: number): number {
    return Math.imul((tag | 0) ^ Math.imul((tag / 4294967296) | 0, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
  }

  /** The slot whose tag (in `tags`) is `tag`, or -1. */
  find(tag: number, tags: Float64Array): number {
    const cells = this.cells;
    for (let h = this.home(tag); ; h = (h + 1) & this.mask) {
      const s = cells[h]! - 1;
      if (s < 0) return -1;
      if (tags[s] === tag) return s;
    }
  }

  /** Slot `s` now holds `tag`. */
  add(s: number, tag: number): void {
    const cells = this.cells;
    let h = this.home(tag);
    while (cells[h] !== 0) h = (h + 1) & this.mask;
    cells[h] = s + 1;
  }

  /** Slot `s`, holding `tags[s]` still, leaves the index; the slots probed past it move back. */
  remove(s: number, tags: Float64Array): void {
    const cells = this.cells;
    const mask = this.mask;
    let i = this.home(tags[s]!);
    while (cells[i] !== s + 1) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; cells[j] !== 0; j = (j + 1) & mask) {
      const k = this.home(tags[cells[j]! - 1]!);
      // The slot at j may fill the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? k <= i || k > j : k <= i && k > j) {
        cells[i] = cells[j]!;
        i = j;
      }
    }
    cells[i] = 0;
  }
}
