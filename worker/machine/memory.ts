/**
 * Guest physical memory: `numFrames` frames of 4 KiB, and the contents of the frames
 * that hold page tables (KVM's guest memory slots, reduced to what paging reads).
 *
 * Only page-table frames have contents here (data frames are names, not bytes); their
 * words live in blocks of 64 entries, allocated for the parts of a table that hold a
 * non-zero word, in a slot per frame that has ever held a page table. Parts with the same
 * words may share one block, copied on a write (every page directory's kernel half is
 * the same 224 entries, clone_pgd_range from swapper_pg_dir: see share()). A freed frame
 * keeps its words until it is written again, as real memory does: a page directory freed
 * and reused as an ordinary page still reads as the old directory until the kernel
 * clears it. Which frames are free is the guest's business
 * (guest/mm/page-alloc.ts).
 */
import { doubled } from '../../shared/doubled.js';
import { PT_ENTRIES } from './paging.js';

/** Entries per block of page-table words (64 x 4 bytes): a table's words are kept a block at a time. */
const BLOCK_SHIFT = 6;
const BLOCK_MASK = (1 << BLOCK_SHIFT) - 1;
const BLOCKS_PER_TABLE = PT_ENTRIES >> BLOCK_SHIFT;
/** Blocks per storage chunk (4096 x 256 bytes = 1 MiB). */
const CHUNK_SHIFT = 12;
const CHUNK_MASK = (1 << CHUNK_SHIFT) - 1;

export class GuestMemory {
  readonly numFrames: number;
  /** Page-table slot of a frame, or -1 (as far as the highest frame that held a page table). */
  private ptSlot = new Int32Array(0);
  private nSlots = 0;
  /**
   * Block of each 64-entry part of each slot, -1 while that part is all zeros: a page
   * table uses few of its 1024 entries (a process's stack, text and libc), so only the
   * parts written hold words.
   */
  private blockOf = new Int32Array(0);
  /** Block words in chunks of 2^CHUNK_SHIFT blocks (added as needed, never copied). */
  private readonly chunks: Uint32Array[] = [];
  private nBlocks = 0;
  /** Parts that use each block (1 unless shared). */
  private refs = new Int32Array(1 << CHUNK_SHIFT);
  /** Blocks zeroed whole and free for another part. */
  private freeBlocks = new Int32Array(64);
  private nFreeBlocks = 0;

  constructor(numFrames: number) {
    this.numFrames = numFrames;
  }

  /**
   * Give frame `f` page-table contents: the words it last held if it held a page table
   * before, else zeros. The guest kernel then writes its entries itself.
   */
  holdPageTable(f: number): void {
    if (f >= this.ptSlot.length) {
      const grown = new Int32Array(Math.min(this.numFrames, Math.max(f + 1, this.ptSlot.length * 2, 1024))).fill(-1);
      grown.set(this.ptSlot);
      this.ptSlot = grown;
    }
    if (this.ptSlot[f]! >= 0) return;
    const slot = this.nSlots++;
    if ((slot + 1) * BLOCKS_PER_TABLE > this.blockOf.length) {
      const grown = new Int32Array(Math.max(BLOCKS_PER_TABLE * 64, this.blockOf.length * 2)).fill(-1);
      grown.set(this.blockOf);
      this.blockOf = grown;
    }
    this.ptSlot[f] = slot;
  }

  /** Does frame `f` hold words the model tracks (it is, or was, a page table)? */
  hasContents(f: number): boolean {
    return f < this.ptSlot.length && this.ptSlot[f]! >= 0;
  }

  /** Read entry `index` of the page table (or directory) in frame `f`. A frame without page-table contents reads as zero. */
  readEntry(f: number, index: number): number {
    if (f >= this.ptSlot.length) return 0;
    const slot = this.ptSlot[f]!;
    if (slot < 0) return 0;
    const b = this.blockOf[slot * BLOCKS_PER_TABLE + (index >>> BLOCK_SHIFT)]!;
    return b < 0 ? 0 : this.chunks[b >>> CHUNK_SHIFT]![((b & CHUNK_MASK) << BLOCK_SHIFT) + (index & BLOCK_MASK)]!;
  }

  /** Zero entries `from`..1023 of a frame with contents (the untrapped rest of a clear_page). */
  zeroFrom(f: number, from: number): void {
    if (!this.hasContents(f)) return;
    const at = this.ptSlot[f]! * BLOCKS_PER_TABLE;
    for (let i = from >>> BLOCK_SHIFT; i < BLOCKS_PER_TABLE; i++) {
      let b = this.blockOf[at + i]!;
      if (b < 0) continue;
      const lo = i === from >>> BLOCK_SHIFT ? from & BLOCK_MASK : 0;
      if (lo === 0) {
        this.blockOf[at + i] = -1;
        this.releaseBlock(b);
        continue;
      }
      if (this.refs[b]! > 1) b = this.blockOf[at + i] = this.unshare(b);
      const base = (b & CHUNK_MASK) << BLOCK_SHIFT;
      this.chunks[b >>> CHUNK_SHIFT]!.fill(0, base + lo, base + BLOCK_MASK + 1);
    }
  }

  writeEntry(f: number, index: number, value: number): void {
    if (!this.hasContents(f)) throw new Error(`write of a page-table entry to frame ${f}, which holds no page table`);
    const at = this.ptSlot[f]! * BLOCKS_PER_TABLE + (index >>> BLOCK_SHIFT);
    let b = this.blockOf[at]!;
    if (b < 0) {
      if (value === 0) return; // the part reads as zeros already
      b = this.blockOf[at] = this.takeBlock();
    }
    if (this.refs[b]! > 1) {
      if (this.chunks[b >>> CHUNK_SHIFT]![((b & CHUNK_MASK) << BLOCK_SHIFT) + (index & BLOCK_MASK)] === value >>> 0) return; // the same word: the part stays shared
      b = this.blockOf[at] = this.unshare(b);
    }
    this.chunks[b >>> CHUNK_SHIFT]![((b & CHUNK_MASK) << BLOCK_SHIFT) + (index & BLOCK_MASK)] = value >>> 0;
  }

  /**
   * Entries `from`..`to`-1 of frame `f` hold what the same entries of frame `like` hold
   * (both page tables): every 64-entry part of that range whose words are equal in both
   * takes `like`'s block, and gives its own back. What either frame reads is unchanged;
   * a later write to a shared part copies it first.
   */
  share(f: number, like: number, from: number, to: number): void {
    if (!this.hasContents(f) || !this.hasContents(like)) return;
    const at = this.ptSlot[f]! * BLOCKS_PER_TABLE;
    const atLike = this.ptSlot[like]! * BLOCKS_PER_TABLE;
    for (let i = (from + BLOCK_MASK) >>> BLOCK_SHIFT; i < to >>> BLOCK_SHIFT; i++) {
      const b = this.blockOf[at + i]!;
      const t = this.blockOf[atLike + i]!;
      if (b < 0 || t < 0 || b === t || !this.sameWords(b, t)) continue;
      this.blockOf[at + i] = t;
      this.refs[t]!++;
      this.releaseBlock(b);
    }
  }

  /** Let go of the parts of frame `f` whose words are all zero (they read as zero without a block). */
  releaseZeroParts(f: number): void {
    if (!this.hasContents(f)) return;
    const at = this.ptSlot[f]! * BLOCKS_PER_TABLE;
    for (let i = 0; i < BLOCKS_PER_TABLE; i++) {
      const b = this.blockOf[at + i]!;
      if (b < 0) continue;
      const words = this.chunks[b >>> CHUNK_SHIFT]!;
      const o = (b & CHUNK_MASK) << BLOCK_SHIFT;
      let zero = true;
      for (let j = 0; j <= BLOCK_MASK && zero; j++) zero = words[o + j] === 0;
      if (!zero) continue;
      this.blockOf[at + i] = -1;
      this.releaseBlock(b);
    }
  }

  private sameWords(a: number, b: number): boolean {
    const ca = this.chunks[a >>> CHUNK_SHIFT]!;
    const cb = this.chunks[b >>> CHUNK_SHIFT]!;
    const oa = (a & CHUNK_MASK) << BLOCK_SHIFT;
    const ob = (b & CHUNK_MASK) << BLOCK_SHIFT;
    for (let i = 0; i <= BLOCK_MASK; i++) if (ca[oa + i] !== cb[ob + i]) return false;
    return true;
  }

  /** A part's own copy of shared block `b`. */
  private unshare(b: number): number {
    const nb = this.takeBlock();
    const from = this.chunks[b >>> CHUNK_SHIFT]!;
    const o = (b & CHUNK_MASK) << BLOCK_SHIFT;
    this.chunks[nb >>> CHUNK_SHIFT]!.set(from.subarray(o, o + BLOCK_MASK + 1), (nb & CHUNK_MASK) << BLOCK_SHIFT);
    this.refs[b]!--;
    return nb;
  }

  /** Bytes of page-table words held (the model's own memory). */
  get heldBytes(): number {
    return (this.nBlocks - this.nFreeBlocks) << (BLOCK_SHIFT + 2);
  }

  /** A zeroed block. */
  private takeBlock(): number {
    let b: number;
    if (this.nFreeBlocks > 0) b = this.freeBlocks[--this.nFreeBlocks]!;
    else {
      b = this.nBlocks++;
      if (b >>> CHUNK_SHIFT === this.chunks.length) this.chunks.push(new Uint32Array(1 << (CHUNK_SHIFT + BLOCK_SHIFT)));
      if (b === this.refs.length) this.refs = doubled(this.refs);
    }
    this.refs[b] = 1;
    return b;
  }

  /** A part lets go of block `b`: zeroed and free once no part uses it. */
  private releaseBlock(b: number): void {
    if (--this.refs[b]! > 0) return;
    const base = (b & CHUNK_MASK) << BLOCK_SHIFT;
    this.chunks[b >>> CHUNK_SHIFT]!.fill(0, base, base + BLOCK_MASK + 1);
    if (this.nFreeBlocks === this.freeBlocks.length) this.freeBlocks = doubled(this.freeBlocks);
    this.freeBlocks[this.nFreeBlocks++] = b;
  }
}
