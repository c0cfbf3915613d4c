/**
 * KVM's mmu_page_hash (mmu.c of early 2007: kvm->mmu_page_hash, KVM_NUM_MMU_PAGES
 * buckets hashed by gfn): (gfn, level) -> shadow page. A shard holds at most `capacity`
 * pages, so the table is sized by the pool, not by guest memory: open addressing with
 * linear probing and backward-shift deletion, at most half full. A map, so what it
 * returns does not depend on its layout.
 */
const EMPTY = -1;

export class PageHash {
  private readonly keys: Int32Array;
  private readonly vals: Int32Array;
  private readonly mask: number;

  constructor(capacity: number) {
    let size = 64;
    while (size < capacity * 2) size *= 2;
    this.mask = size - 1;
    this.keys = new Int32Array(size).fill(EMPTY);
    this.vals = new Int32Array(size);
  }

  /** The slot where `key` is, or the empty slot where it would go. */
  private slot(key: number): number {
    let i = Math.imul(key, 0x9e3779b1) >>> 0 & this.mask;
    for (;;) {
      const k = this.keys[i]!;
      if (k === key || k === EMPTY) return i;
      i = (i + 1) & this.mask;
    }
  }

  /** The page for `key`, or -1. */
  get(key: number): number {
    const i = this.slot(key);
    return this.keys[i] === key ? this.vals[i]! : -1;
  }

  set(key: number, sp: number): void {
    const i = this.slot(key);
    this.keys[i] = key;
    this.vals[i] = sp;
  }

  delete(key: number): void {
    let i = this.slot(key);
    if (this.keys[i] !== key) return;
    // Backward-shift deletion: move later entries of the run into the hole.
    const mask = this.mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const k = this.keys[j]!;
      if (k === EMPTY) break;
      const home = Math.imul(k, 0x9e3779b1) >>> 0 & mask;
      // Move k back if its home is not cyclically within (i, j].
      if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
        this.keys[i] = k;
        this.vals[i] = this.vals[j]!;
        i = j;
      }
    }
    this.keys[i] = EMPTY;
  }
}
