/**
 * Guest physical memory: `numFrames` frames of 4 KiB, and the contents of the frames
 * that hold page tables (KVM's guest memory slots, reduced to what paging reads).
 *
 * Only page-table frames have contents here (data frames are names, not bytes); their
 * words live in `ptChunks`, one 1024-word slot per frame that has ever held a page
 * table. A freed frame keeps its words until it is written again, as real memory does:
 * a page directory freed and reused as an ordinary page still reads as the old directory
 * until the kernel clears it. Which frames are free is the guest's business
 * (guest/mm/page-alloc.ts).
 */
import { PT_ENTRIES } from './paging.js';

/** Page-table slots per storage chunk (256 x 4 KiB = 1 MiB). */
const CHUNK_SHIFT = 8;
const CHUNK_MASK = (1 << CHUNK_SHIFT) - 1;

export class GuestMemory {
  readonly numFrames: number;
  /** Page-table slot of a frame, or -1. */
  private readonly ptSlot: Int32Array;
  /** Page-table words in chunks of 2^CHUNK_SHIFT slots (added as needed, never copied). */
  private readonly ptChunks: Uint32Array[] = [];
  private nSlots = 0;

  constructor(numFrames: number) {
    this.numFrames = numFrames;
    this.ptSlot = new Int32Array(numFrames).fill(-1);
  }

  /**
   * Give frame `f` page-table contents: the words it last held if it held a page table
   * before, else zeros. The guest kernel then writes its entries itself.
   */
  holdPageTable(f: number): void {
    if (this.ptSlot[f]! >= 0) return;
    const slot = this.nSlots++;
    if (slot >> CHUNK_SHIFT === this.ptChunks.length) this.ptChunks.push(new Uint32Array(PT_ENTRIES << CHUNK_SHIFT));
    this.ptSlot[f] = slot;
  }

  /** Does frame `f` hold words the model tracks (it is, or was, a page table)? */
  hasContents(f: number): boolean {
    return this.ptSlot[f]! >= 0;
  }

  /** Read entry `index` of the page table (or directory) in frame `f`. A frame without page-table contents reads as zero. */
  readEntry(f: number, index: number): number {
    const slot = this.ptSlot[f]!;
    return slot < 0 ? 0 : this.ptChunks[slot >> CHUNK_SHIFT]![((slot & CHUNK_MASK) << 10) + index]!;
  }

  /** Zero entries `from`..1023 of a frame with contents (the untrapped rest of a clear_page). */
  zeroFrom(f: number, from: number): void {
    const slot = this.ptSlot[f]!;
    if (slot < 0) return;
    const base = (slot & CHUNK_MASK) << 10;
    this.ptChunks[slot >> CHUNK_SHIFT]!.fill(0, base + from, base + PT_ENTRIES);
  }

  writeEntry(f: number, index: number, value: number): void {
    const slot = this.ptSlot[f]!;
    if (slot < 0) throw new Error(`write of a page-table entry to frame ${f}, which holds no page table`);
    this.ptChunks[slot >> CHUNK_SHIFT]![((slot & CHUNK_MASK) << 10) + index] = value >>> 0;
  }
}
