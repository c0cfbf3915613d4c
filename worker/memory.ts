/**
 * Guest physical memory: 4 KiB frames, a frame allocator, and the contents of the
 * frames that hold page tables.
 *
 * Models i386 32-bit two-level paging without PAE (Intel SDM vol. 3, 4.3): a page
 * directory of 1024 PDEs, each pointing to a page table of 1024 PTEs, each mapping one
 * 4 KiB frame. Only page-table frames have contents here (data frames are names, not
 * bytes); their words live in `ptChunks`, one 1024-word slot per frame that has ever held
 * a page table. A freed frame keeps its words until it is written again, as real memory
 * does: a page directory freed and reused as an ordinary page still reads as the old
 * directory until the kernel clears it.
 */
import { type Rng } from './rng.js';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
export const PT_ENTRIES = 1024;

/** PTE/PDE bits (Linux's _PAGE_*). */
export const PTE_P = 0x001; // present
export const PTE_RW = 0x002; // writable
export const PTE_US = 0x004; // user
export const PTE_A = 0x020; // accessed
export const PTE_D = 0x040; // dirty
export const PTE_G = 0x100; // global (PTE only; honoured with CR4.PGE)

/** Kernel virtual addresses start at PAGE_OFFSET 0xC0000000: PDE index 768, VPN 0xC0000. */
export const KERNEL_PDE_FIRST = 768;
export const KERNEL_VPN_BASE = 0xc0000;

/** Page-table slots per storage chunk (256 x 4 KiB = 1 MiB). */
const CHUNK_SHIFT = 8;
const CHUNK_MASK = (1 << CHUNK_SHIFT) - 1;

/** A guest run out of memory: a config asked for more tasks than the guest holds. */
export class GuestOutOfMemory extends Error {
  readonly code = 'EGUESTOOM';
}

export class GuestMemory {
  readonly numFrames: number;
  /** Free frames, a LIFO stack (the buddy allocator's hot-page behaviour): last freed is reused first. */
  private readonly freeStack: Int32Array;
  private nFree = 0;
  /** Page-table slot of a frame, or -1. */
  private readonly ptSlot: Int32Array;
  /** Words of all page-table frames, PT_ENTRIES per slot. */
  /** Page-table words in chunks of SLOTS_PER_CHUNK slots (added as needed, never copied). */
  private readonly ptChunks: Uint32Array[] = [];
  private nSlots = 0;

  /**
   * @param reserved frames below this are the kernel image and boot data, never allocated
   * @param rng shuffles the free list within 1 MiB blocks, so that which frame an object gets depends on the seed
   */
  constructor(numFrames: number, reserved: number, rng: Rng) {
    this.numFrames = numFrames;
    this.freeStack = new Int32Array(numFrames);
    this.ptSlot = new Int32Array(numFrames).fill(-1);
    // Frames are handed out in ascending order (a freshly booted buddy allocator), with
    // the order inside each 1 MiB block shuffled by the seed.
    for (let f = numFrames - 1; f >= reserved; f--) this.freeStack[this.nFree++] = f;
    const block = 256;
    for (let start = 0; start < this.nFree; start += block) {
      const end = Math.min(this.nFree, start + block);
      for (let i = end - 1; i > start; i--) {
        const j = start + rng.below(i - start + 1);
        const t = this.freeStack[i]!;
        this.freeStack[i] = this.freeStack[j]!;
        this.freeStack[j] = t;
      }
    }
  }

  get freeFrames(): number {
    return this.nFree;
  }

  /**
   * A free frame. `cpu` picks the free list: one list for the whole guest until
   * splitFree(), then one per vCPU (the per-CPU page lists, here holding all of a vCPU's
   * frames, so that vCPUs never share allocator state).
   */
  allocFrame(cpu = 0): number {
    if (this.cpuStacks !== null) {
      const st = this.cpuStacks[cpu]!;
      if (this.cpuFree[cpu] === 0) throw new GuestOutOfMemory(`guest memory exhausted on vCPU ${cpu} (${this.numFrames} frames of 4 KiB, split between vCPUs)`);
      return st[--this.cpuFree[cpu]!]!;
    }
    if (this.nFree === 0) throw new GuestOutOfMemory(`guest memory exhausted (${this.numFrames} frames of 4 KiB)`);
    return this.freeStack[--this.nFree]!;
  }

  /** Free a frame (to `cpu`'s list once split). Its contents stay as they were (real memory is not wiped on free). */
  freeFrame(f: number, cpu = 0): void {
    if (this.cpuStacks !== null) {
      this.cpuStacks[cpu]![this.cpuFree[cpu]!++] = f;
      return;
    }
    this.freeStack[this.nFree++] = f;
  }

  private cpuStacks: Int32Array[] | null = null;
  private cpuFree = new Int32Array(0);

  /**
   * Deal the free frames to `cpus` vCPUs, in turn from the top of the stack, so each
   * vCPU allocates from its own list (the same frames in every replica of the VM).
   */
  splitFree(cpus: number): void {
    if (cpus <= 1 || this.cpuStacks !== null) return;
    this.cpuStacks = Array.from({ length: cpus }, () => new Int32Array(this.numFrames));
    const n = this.nFree;
    this.cpuFree = Int32Array.from({ length: cpus }, (_, c) => Math.ceil((n - c) / cpus));
    // Frame k from the top of the stack goes to vCPU k mod cpus, as its (k div cpus)-th from the top.
    for (let k = 0; k < n; k++) {
      const c = k % cpus;
      this.cpuStacks[c]![this.cpuFree[c]! - 1 - Math.floor(k / cpus)] = this.freeStack[n - 1 - k]!;
    }
    this.nFree = 0;
  }

  /** A frame to hold a page table (or directory), all entries zero (boot and set-up, not trapped). */
  allocPageTable(): number {
    const f = this.allocFrame();
    this.holdPageTable(f);
    this.zeroFrom(f, 0);
    return f;
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

  /**
   * The MMU's two-level walk of guest tables rooted at page directory `pdFrame` for
   * virtual page `vpn`. Returns the PTE, or 0 when the PDE or PTE is not present.
   * Sets the accessed bits, and the dirty bit on a write, as the hardware does.
   */
  walk(pdFrame: number, vpn: number, write: boolean): number {
    const pdi = vpn >>> 10;
    const pde = this.readEntry(pdFrame, pdi);
    if ((pde & PTE_P) === 0) return 0;
    const ptFrame = pde >>> PAGE_SHIFT;
    const pti = vpn & (PT_ENTRIES - 1);
    const pte = this.readEntry(ptFrame, pti);
    if ((pte & PTE_P) === 0) return 0;
    if ((pde & PTE_A) === 0) this.writeEntry(pdFrame, pdi, pde | PTE_A);
    const set = write ? PTE_A | PTE_D : PTE_A;
    if ((pte & set) !== set) this.writeEntry(ptFrame, pti, pte | set);
    return pte | set;
  }
}
