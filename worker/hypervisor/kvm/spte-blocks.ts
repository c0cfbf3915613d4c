/**
 * The entries of a pool of shadow pages, held sparsely. KVM gives each shadow page a whole
 * host page (`sp->spt`, one 4 KiB page of sptes, mmu.c kvm_mmu_alloc_page); like the guest
 * table it shadows, a shadow page uses few of its entries, so the model keeps the entries
 * of each 64-entry part of a page in a block, made at the part's first entry and given back
 * when the page is emptied: entry `at` is page * entriesPerPage + index, and an entry never
 * written reads as -1 (no spte). Shared by the 2007 pool (shadow/pages.ts) and today's
 * (mmu/pages.ts).
 */
import { doubled } from '../../../shared/doubled.js';

const NONE = -1;
/** Entries per block (64). */
const BLOCK_SHIFT = 6;
const BLOCK_MASK = (1 << BLOCK_SHIFT) - 1;
/** Blocks the storage starts with (64 x 256 bytes = 16 KiB); it doubles as needed. */
const FIRST_BLOCKS = 64;

export class SpteBlocks {
  /** Block of each 64-entry part of each page, -1 while the part holds no entry. */
  private readonly blockOf: Int32Array;
  /**
   * The blocks' entries, block b at b * 64: one array, so that a read is two dependent
   * loads (the part's block, the entry), not four through a list of chunks (the hardware
   * walk of the shadow tables reads it at every TLB miss).
   */
  private words: Int32Array;
  private readonly blocksPerPage: number;
  private nBlocks = 0;
  private freeBlocks = new Int32Array(16);
  private nFreeBlocks = 0;

  constructor(pages: number, entriesPerPage: number) {
    this.blocksPerPage = entriesPerPage >> BLOCK_SHIFT;
    this.blockOf = new Int32Array(pages * this.blocksPerPage).fill(NONE);
    this.words = new Int32Array(Math.min(FIRST_BLOCKS, this.blockOf.length) << BLOCK_SHIFT).fill(NONE);
  }

  /** Entry `at`, or -1. */
  get(at: number): number {
    const b = this.blockOf[at >>> BLOCK_SHIFT]!;
    return b < 0 ? NONE : this.words[(b << BLOCK_SHIFT) | (at & BLOCK_MASK)]!;
  }

  set(at: number, value: number): void {
    let b = this.blockOf[at >>> BLOCK_SHIFT]!;
    if (b < 0) {
      if (value === NONE) return;
      b = this.blockOf[at >>> BLOCK_SHIFT] = this.takeBlock();
    }
    this.words[(b << BLOCK_SHIFT) | (at & BLOCK_MASK)] = value;
  }

  /** Page `page` holds no entry any more: its blocks go back (as -1). */
  release(page: number): void {
    const at = page * this.blocksPerPage;
    for (let i = 0; i < this.blocksPerPage; i++) {
      const b = this.blockOf[at + i]!;
      if (b < 0) continue;
      this.words.fill(NONE, b << BLOCK_SHIFT, (b + 1) << BLOCK_SHIFT);
      this.blockOf[at + i] = NONE;
      if (this.nFreeBlocks === this.freeBlocks.length) this.freeBlocks = doubled(this.freeBlocks);
      this.freeBlocks[this.nFreeBlocks++] = b;
    }
  }

  /** A block of -1 entries. */
  private takeBlock(): number {
    if (this.nFreeBlocks > 0) return this.freeBlocks[--this.nFreeBlocks]!;
    const b = this.nBlocks++;
    if (b << BLOCK_SHIFT === this.words.length) {
      // Twice as many, but no more than every part of every page could take.
      const w = new Int32Array(Math.min(this.words.length * 2, this.blockOf.length << BLOCK_SHIFT)).fill(NONE, this.words.length);
      w.set(this.words);
      this.words = w;
    }
    return b;
  }
}
