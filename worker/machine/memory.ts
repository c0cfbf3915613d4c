/**
 * Guest physical memory: `numFrames` frames of 4 KiB, and the contents of the frames
 * that hold page tables (KVM's guest memory slots, reduced to what paging reads).
 *
 * Only page-table frames have contents here (data frames are names, not bytes). A page
 * table uses few of its 1024 entries (a process's text, data, libc and stack: one to
 * three words in each of a few tables), so its words are kept sparsely: a slot per frame
 * that has ever held a page table, a directory of four 16-word blocks for each 64-entry
 * part that holds a non-zero word, and a block only for the 16 words around a non-zero
 * one. Parts with the same words may share one directory, copied on a write (every page
 * directory's kernel half is the same 224 entries, clone_pgd_range from swapper_pg_dir:
 * see share()). A freed frame keeps its words until it is written again, as real memory
 * does: a page directory freed and reused as an ordinary page still reads as the old
 * directory until the kernel clears it. Which frames are free is the guest's business
 * (guest/mm/page-alloc.ts).
 */
import { doubled } from '../../shared/doubled.js';
import { PT_ENTRIES } from './paging.js';

/** Entries per part (64): a part holding a non-zero word has a directory of its blocks. */
const PART_SHIFT = 6;
const PART_MASK = (1 << PART_SHIFT) - 1;
const PARTS_PER_TABLE = PT_ENTRIES >> PART_SHIFT;
/** Entries per block (16 x 4 bytes), and blocks per part. */
const BLOCK_SHIFT = 4;
const BLOCK_MASK = (1 << BLOCK_SHIFT) - 1;
const BLOCKS_PER_PART = 1 << (PART_SHIFT - BLOCK_SHIFT);
/** Blocks per storage chunk (16,384 x 64 bytes = 1 MiB). */
const CHUNK_SHIFT = 14;
const CHUNK_MASK = (1 << CHUNK_SHIFT) - 1;

export class GuestMemory {
  readonly numFrames: number;
  /*
   * Number 0 is "none" in each of the three indexes below, and names something that reads
   * as zeros: slot 0 is a table whose parts have no directory, directory 0 one without
   * blocks, block 0 sixteen zero words, none of them ever written. A walk then reads a word
   * through the same loads whether it is there or not, and the arrays need no filling: a
   * new one is the zeros calloc gives (whose pages the host maps only as they are written
   * when calloc maps fresh memory: in the main thread, not always in a worker's arena).
   * On this kind of machine a first touch of a page costs ~11 us; filling each grown array
   * with -1 touched it all, some 12 MB a run at 10,000 tasks.
   */
  /** Page-table slot of each frame (0: none); made with the first page table, one entry per frame. */
  private ptSlot = new Int32Array(0);
  private nSlots = 1;
  /** Directory of each 64-entry part of each slot (0 while the part is all zeros). */
  private partDir = new Int32Array(PARTS_PER_TABLE);
  /** Each directory's four blocks (0: those 16 entries are zeros). */
  private dirs = new Int32Array(BLOCKS_PER_PART);
  /** Parts that use each directory (1 unless shared); 0 for a free one. */
  private dirRefs = new Int32Array(16);
  private nDirs = 1;
  private freeDirs = new Int32Array(64);
  private nFreeDirs = 0;
  /** Block words in chunks of 2^CHUNK_SHIFT blocks (added as needed, never copied). A block belongs to one directory. */
  private readonly chunks: Uint32Array[] = [];
  /** chunks[0] (block 0 and the blocks of a guest of up to ~1,000 processes). */
  private readonly chunk0 = new Uint32Array(1 << (CHUNK_SHIFT + BLOCK_SHIFT));
  private nBlocks = 1;
  /** Blocks zeroed and free for another directory. */
  private freeBlocks = new Int32Array(64);
  private nFreeBlocks = 0;

  constructor(numFrames: number) {
    this.numFrames = numFrames;
    this.chunks.push(this.chunk0);
  }

  /**
   * Give frame `f` page-table contents: the words it last held if it held a page table
   * before, else zeros. The guest kernel then writes its entries itself.
   */
  holdPageTable(f: number): void {
    if (this.ptSlot.length === 0) this.ptSlot = new Int32Array(this.numFrames);
    if (this.ptSlot[f]! !== 0) return;
    const slot = this.nSlots++;
    if ((slot + 1) * PARTS_PER_TABLE > this.partDir.length) this.partDir = doubled(this.partDir);
    this.ptSlot[f] = slot;
  }

  /** Does frame `f` hold words the model tracks (it is, or was, a page table)? */
  hasContents(f: number): boolean {
    return f < this.ptSlot.length && this.ptSlot[f]! !== 0;
  }

  /** Read entry `index` of the page table (or directory) in frame `f`. A frame without page-table contents reads as zero. */
  readEntry(f: number, index: number): number {
    if (f >= this.ptSlot.length) return 0;
    // Slot, directory and block 0 read as zeros: no test on the way.
    const d = this.partDir[this.ptSlot[f]! * PARTS_PER_TABLE + (index >>> PART_SHIFT)]!;
    const b = this.dirs[d * BLOCKS_PER_PART + ((index >>> BLOCK_SHIFT) & (BLOCKS_PER_PART - 1))]!;
    // The first chunk straight from its field: one list lookup fewer (every guest walk reads here).
    return b <= CHUNK_MASK ? this.chunk0[(b << BLOCK_SHIFT) + (index & BLOCK_MASK)]! : this.chunks[b >>> CHUNK_SHIFT]![((b & CHUNK_MASK) << BLOCK_SHIFT) + (index & BLOCK_MASK)]!;
  }

  /** Zero entries `from`..1023 of a frame with contents (the untrapped rest of a clear_page). */
  zeroFrom(f: number, from: number): void {
    if (!this.hasContents(f)) return;
    const at = this.ptSlot[f]! * PARTS_PER_TABLE;
    for (let i = from >>> PART_SHIFT; i < PARTS_PER_TABLE; i++) {
      let d = this.partDir[at + i]!;
      if (d === 0) continue;
      const lo = i === from >>> PART_SHIFT ? from & PART_MASK : 0;
      if (lo === 0) {
        this.partDir[at + i] = 0;
        this.releaseDir(d);
        continue;
      }
      if (this.dirRefs[d]! > 1) d = this.partDir[at + i] = this.unshare(d);
      for (let q = lo >>> BLOCK_SHIFT; q < BLOCKS_PER_PART; q++) {
        const b = this.dirs[d * BLOCKS_PER_PART + q]!;
        if (b === 0) continue;
        const first = q === lo >>> BLOCK_SHIFT ? lo & BLOCK_MASK : 0;
        if (first === 0) {
          this.dirs[d * BLOCKS_PER_PART + q] = 0;
          this.releaseBlock(b);
        } else {
          const base = (b & CHUNK_MASK) << BLOCK_SHIFT;
          this.chunks[b >>> CHUNK_SHIFT]!.fill(0, base + first, base + BLOCK_MASK + 1);
        }
      }
    }
  }

  writeEntry(f: number, index: number, value: number): void {
    if (!this.hasContents(f)) throw new Error(`write of a page-table entry to frame ${f}, which holds no page table`);
    const at = this.ptSlot[f]! * PARTS_PER_TABLE + (index >>> PART_SHIFT);
    let d = this.partDir[at]!;
    if (d === 0) {
      if (value === 0) return; // the part reads as zeros already
      d = this.partDir[at] = this.takeDir();
    } else if (this.dirRefs[d]! > 1) {
      if (this.readEntry(f, index) === value >>> 0) return; // the same word: the part stays shared
      d = this.partDir[at] = this.unshare(d);
    }
    const q = d * BLOCKS_PER_PART + ((index >>> BLOCK_SHIFT) & (BLOCKS_PER_PART - 1));
    let b = this.dirs[q]!;
    if (b === 0) {
      if (value === 0) return; // these 16 entries read as zeros already
      b = this.dirs[q] = this.takeBlock();
    }
    this.chunks[b >>> CHUNK_SHIFT]![((b & CHUNK_MASK) << BLOCK_SHIFT) + (index & BLOCK_MASK)] = value >>> 0;
  }

  /**
   * Frame `f`'s first `words.length` entries (a multiple of 64: a whole table) set to
   * `words`, a block at a time: what writeEntry of each word in turn does, in bulk (the
   * boot's direct map fills a table at a time). A part that already holds words takes them
   * one by one.
   */
  writeTable(f: number, words: Uint32Array): void {
    if (!this.hasContents(f)) throw new Error(`write of a page table to frame ${f}, which holds no page table`);
    if ((words.length & PART_MASK) !== 0 || words.length > PT_ENTRIES) throw new RangeError(`a table of ${words.length} entries`);
    const at = this.ptSlot[f]! * PARTS_PER_TABLE;
    for (let p = 0; p < words.length >>> PART_SHIFT; p++) {
      const first = p << PART_SHIFT;
      if (this.partDir[at + p]! !== 0) {
        for (let i = first; i <= first + PART_MASK; i++) this.writeEntry(f, i, words[i]!);
        continue;
      }
      let d = 0;
      for (let q = 0; q < BLOCKS_PER_PART; q++) {
        const o = first + (q << BLOCK_SHIFT);
        let zero = true;
        for (let j = o; j <= o + BLOCK_MASK && zero; j++) zero = words[j] === 0;
        if (zero) continue;
        if (d === 0) d = this.partDir[at + p] = this.takeDir();
        const b = (this.dirs[d * BLOCKS_PER_PART + q] = this.takeBlock());
        const chunk = this.chunks[b >>> CHUNK_SHIFT]!;
        const base = (b & CHUNK_MASK) << BLOCK_SHIFT;
        for (let j = 0; j <= BLOCK_MASK; j++) chunk[base + j] = words[o + j]!;
      }
    }
  }

  /**
   * Entries `from`..`to`-1 of frame `f` hold what the same entries of frame `like` hold
   * (both page tables): every 64-entry part of that range whose words are equal in both
   * takes `like`'s directory, and gives its own back. What either frame reads is
   * unchanged; a later write to a shared part copies it first.
   */
  share(f: number, like: number, from: number, to: number): void {
    if (!this.hasContents(f) || !this.hasContents(like)) return;
    const at = this.ptSlot[f]! * PARTS_PER_TABLE;
    const atLike = this.ptSlot[like]! * PARTS_PER_TABLE;
    for (let i = (from + PART_MASK) >>> PART_SHIFT; i < to >>> PART_SHIFT; i++) {
      const d = this.partDir[at + i]!;
      const t = this.partDir[atLike + i]!;
      if (d === 0 || t === 0 || d === t || !this.samePart(f, like, i << PART_SHIFT)) continue;
      this.partDir[at + i] = t;
      this.dirRefs[t]!++;
      this.releaseDir(d);
    }
  }

  /**
   * Entries `from`.. of frame `f` set to `words`, then share(f, like, from, to): what
   * writeEntry of each word and share() do, except that a 64-entry part that read as zeros
   * and comes to read as `like`'s part takes `like`'s directory at once, without words of
   * its own in between (pgd_alloc copies swapper_pg_dir's kernel half into a cleared
   * directory: clone_pgd_range).
   */
  writeShared(f: number, from: number, words: Uint32Array, like: number, to: number): void {
    if (!this.hasContents(f)) throw new Error(`write of page-table entries to frame ${f}, which holds no page table`);
    const end = from + words.length;
    if (end > PT_ENTRIES || to > PT_ENTRIES) throw new RangeError(`entries ${from}..${Math.max(end, to) - 1} of a ${PT_ENTRIES}-entry table`);
    const at = this.ptSlot[f]! * PARTS_PER_TABLE;
    const likeHas = this.hasContents(like);
    const atLike = likeHas ? this.ptSlot[like]! * PARTS_PER_TABLE : -1;
    const shareFirst = (from + PART_MASK) >>> PART_SHIFT;
    const shareEnd = to >>> PART_SHIFT;
    const last = Math.max((end + PART_MASK) >>> PART_SHIFT, shareEnd);
    for (let p = from >>> PART_SHIFT; p < last; p++) {
      const first = p << PART_SHIFT;
      const lo = Math.max(from, first);
      const hi = Math.min(end, first + PART_MASK + 1);
      const shared = likeHas && p >= shareFirst && p < shareEnd;
      const t = shared ? this.partDir[atLike + p]! : 0;
      if (t !== 0 && this.partDir[at + p]! === 0) {
        // A part of zeros: its words after the writes, against `like`'s, block by block.
        let same = true;
        let nonZero = false;
        for (let q = 0; q < BLOCKS_PER_PART && same; q++) {
          const b = this.dirs[t * BLOCKS_PER_PART + q]!;
          const chunk = b === 0 ? null : this.chunks[b >>> CHUNK_SHIFT]!;
          const base = (b & CHUNK_MASK) << BLOCK_SHIFT;
          const o = first + (q << BLOCK_SHIFT);
          for (let j = 0; j <= BLOCK_MASK && same; j++) {
            const i = o + j;
            const w = i >= lo && i < hi ? words[i - from]! : 0;
            if (w !== 0) nonZero = true;
            same = w === (chunk === null ? 0 : chunk[base + j]!);
          }
        }
        if (same) {
          if (nonZero) {
            this.partDir[at + p] = t;
            this.dirRefs[t]!++;
          }
          continue;
        }
      }
      for (let i = lo; i < hi; i++) this.writeEntry(f, i, words[i - from]!);
      if (!shared) continue;
      const d = this.partDir[at + p]!;
      if (d === 0 || t === 0 || d === t || !this.samePart(f, like, first)) continue;
      this.partDir[at + p] = t;
      this.dirRefs[t]!++;
      this.releaseDir(d);
    }
  }

  /** Let go of the blocks of frame `f` whose words are all zero (they read as zero without one). */
  releaseZeroParts(f: number): void {
    if (!this.hasContents(f)) return;
    const at = this.ptSlot[f]! * PARTS_PER_TABLE;
    for (let i = 0; i < PARTS_PER_TABLE; i++) {
      const d = this.partDir[at + i]!;
      if (d === 0 || this.dirRefs[d]! > 1) continue;
      let left = 0;
      for (let q = 0; q < BLOCKS_PER_PART; q++) {
        const b = this.dirs[d * BLOCKS_PER_PART + q]!;
        if (b === 0) continue;
        const words = this.chunks[b >>> CHUNK_SHIFT]!;
        const o = (b & CHUNK_MASK) << BLOCK_SHIFT;
        let zero = true;
        for (let j = 0; j <= BLOCK_MASK && zero; j++) zero = words[o + j] === 0;
        if (!zero) left++;
        else {
          this.dirs[d * BLOCKS_PER_PART + q] = 0;
          this.releaseBlock(b);
        }
      }
      if (left === 0) {
        this.partDir[at + i] = 0;
        this.releaseDir(d);
      }
    }
  }

  /** Do the 64 entries from `first` read the same in frames `f` and `g`? */
  private samePart(f: number, g: number, first: number): boolean {
    for (let i = first; i <= first + PART_MASK; i++) if (this.readEntry(f, i) !== this.readEntry(g, i)) return false;
    return true;
  }

  /** A part's own copy of shared directory `d`, its blocks copied. */
  private unshare(d: number): number {
    const nd = this.takeDir();
    for (let q = 0; q < BLOCKS_PER_PART; q++) {
      const b = this.dirs[d * BLOCKS_PER_PART + q]!;
      if (b === 0) continue;
      const nb = this.takeBlock();
      const o = (b & CHUNK_MASK) << BLOCK_SHIFT;
      this.chunks[nb >>> CHUNK_SHIFT]!.set(this.chunks[b >>> CHUNK_SHIFT]!.subarray(o, o + BLOCK_MASK + 1), (nb & CHUNK_MASK) << BLOCK_SHIFT);
      this.dirs[nd * BLOCKS_PER_PART + q] = nb;
    }
    this.dirRefs[d]!--;
    return nd;
  }

  /** Bytes of page-table words held in blocks (the model's own memory, without the slots and directories that index them). */
  get heldBytes(): number {
    return (this.nBlocks - 1 - this.nFreeBlocks) << (BLOCK_SHIFT + 2);
  }

  /** An empty directory used by one part. */
  private takeDir(): number {
    let d: number;
    if (this.nFreeDirs > 0) d = this.freeDirs[--this.nFreeDirs]!;
    else {
      d = this.nDirs++;
      if ((d + 1) * BLOCKS_PER_PART > this.dirs.length) this.dirs = doubled(this.dirs);
      if (d >= this.dirRefs.length) this.dirRefs = doubled(this.dirRefs);
    }
    this.dirRefs[d] = 1;
    return d;
  }

  /** A part lets go of directory `d`: its blocks freed once no part uses it. */
  private releaseDir(d: number): void {
    if (--this.dirRefs[d]! > 0) return;
    for (let q = 0; q < BLOCKS_PER_PART; q++) {
      const b = this.dirs[d * BLOCKS_PER_PART + q]!;
      if (b === 0) continue;
      this.dirs[d * BLOCKS_PER_PART + q] = 0;
      this.releaseBlock(b);
    }
    if (this.nFreeDirs === this.freeDirs.length) this.freeDirs = doubled(this.freeDirs);
    this.freeDirs[this.nFreeDirs++] = d;
  }

  /** A zeroed block. */
  private takeBlock(): number {
    if (this.nFreeBlocks > 0) return this.freeBlocks[--this.nFreeBlocks]!;
    const b = this.nBlocks++;
    if (b >>> CHUNK_SHIFT === this.chunks.length) this.chunks.push(new Uint32Array(1 << (CHUNK_SHIFT + BLOCK_SHIFT)));
    return b;
  }

  /** Block `b` is let go of: zeroed and free. */
  private releaseBlock(b: number): void {
    const base = (b & CHUNK_MASK) << BLOCK_SHIFT;
    this.chunks[b >>> CHUNK_SHIFT]!.fill(0, base, base + BLOCK_MASK + 1);
    if (this.nFreeBlocks === this.freeBlocks.length) this.freeBlocks = doubled(this.freeBlocks);
    this.freeBlocks[this.nFreeBlocks++] = b;
  }
}
