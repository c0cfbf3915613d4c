/**
 * The guest's page allocator (mm/page_alloc.c, reduced): which frames are free, handed
 * out LIFO (the buddy allocator's hot-page behaviour: the last freed is reused first).
 * A freshly booted allocator hands frames out in ascending order; here the order inside
 * each 1 MiB block is shuffled by the seed, so that which frame an object gets depends
 * on it. With several vCPUs the free frames are dealt to per-vCPU lists (the per-CPU
 * page lists, here holding all of a vCPU's frames), so vCPUs never share allocator state.
 */
import type { Rng } from '../../../shared/rng.js';
import type { GuestMemory } from '../../machine/memory.js';

/** A guest run out of memory: a config asked for more tasks than the guest holds. */
export class GuestOutOfMemory extends Error {
  readonly code = 'EGUESTOOM';
}

export class PageAllocator {
  /** Free frames, a LIFO stack. */
  private readonly freeStack: Int32Array;
  private nFree = 0;
  private cpuStacks: Int32Array[] | null = null;
  private cpuFree = new Int32Array(0);

  /**
   * @param reserved frames below this are the kernel image and boot data, never allocated
   * @param rng shuffles the free list within 1 MiB blocks
   */
  constructor(
    readonly mem: GuestMemory,
    reserved: number,
    rng: Rng,
  ) {
    const numFrames = mem.numFrames;
    this.freeStack = new Int32Array(numFrames);
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

  /** Words the free lists hold room for (what the allocator costs in memory, 4 bytes each). */
  get listWords(): number {
    return this.freeStack.length + (this.cpuStacks ?? []).reduce((a, st) => a + st.length, 0);
  }

  get freeFrames(): number {
    return this.nFree;
  }

  /** A free frame, from `cpu`'s list once the lists are split (one list for the whole guest before). */
  allocFrame(cpu = 0): number {
    if (this.cpuStacks !== null) {
      const st = this.cpuStacks[cpu]!;
      if (this.cpuFree[cpu] === 0) throw new GuestOutOfMemory(`guest memory exhausted on vCPU ${cpu} (${this.mem.numFrames} frames of 4 KiB, split between vCPUs)`);
      return st[--this.cpuFree[cpu]!]!;
    }
    if (this.nFree === 0) throw new GuestOutOfMemory(`guest memory exhausted (${this.mem.numFrames} frames of 4 KiB)`);
    return this.freeStack[--this.nFree]!;
  }

  /** Free a frame (to `cpu`'s list once split). Its contents stay as they were (real memory is not wiped on free). */
  freeFrame(f: number, cpu = 0): void {
    if (this.cpuStacks !== null) {
      let st = this.cpuStacks[cpu]!;
      const n = this.cpuFree[cpu]!;
      if (n === st.length) {
        // A vCPU frees more than it was dealt (frames another vCPU allocated): its list grows.
        const grown = new Int32Array(Math.min(this.mem.numFrames, Math.max(64, n * 2)));
        grown.set(st);
        st = this.cpuStacks[cpu] = grown;
      }
      st[n] = f;
      this.cpuFree[cpu] = n + 1;
      return;
    }
    this.freeStack[this.nFree++] = f;
  }

  /**
   * Deal the free frames to `cpus` vCPUs, in turn from the top of the stack, so each
   * vCPU allocates from its own list (the same frames in every replica of the VM).
   */
  splitFree(cpus: number): void {
    if (cpus <= 1 || this.cpuStacks !== null) return;
    const n = this.nFree;
    this.cpuFree = Int32Array.from({ length: cpus }, (_, c) => Math.ceil((n - c) / cpus));
    // Each list is sized by its share and grows when frees exceed it (freeFrame).
    this.cpuStacks = Array.from({ length: cpus }, (_, c) => new Int32Array(Math.max(64, this.cpuFree[c]!)));
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
    this.mem.holdPageTable(f);
    this.mem.zeroFrom(f, 0);
    return f;
  }
}
