/**
 * The guest's page allocator (mm/page_alloc.c, reduced): which frames are free, handed
 * out LIFO (the buddy allocator's hot-page behaviour: the last freed is reused first).
 * A freshly booted allocator hands frames out in ascending order; here the order inside
 * each 1 MiB block is shuffled by the seed, so that which frame an object gets depends
 * on it. With several vCPUs half of each zone's free frames is dealt to per-vCPU lists
 * (the per-CPU page lists, here holding most of a vCPU's frames), so vCPUs never share
 * allocator state within a quantum; the other half is the zone's reserve. A list that is
 * below half its share at a quantum's end is filled back to its share from the reserve
 * (rmqueue_bulk), by a record (M_REFILL) that every replica merges in the same order, so
 * the reserve is the same in all of them. A list that runs empty within a quantum is
 * exhaustion.
 *
 * Two zones, as on i386 without PAE (mm/page_alloc.c, include/linux/mmzone.h):
 * ZONE_NORMAL is the lowmem the kernel direct-maps, frames below LOWMEM_FRAMES (896 MiB:
 * include/asm-i386/page.h MAXMEM = -__PAGE_OFFSET - __VMALLOC_RESERVE with the 3G/1G
 * split and a 128 MiB vmalloc reserve; arch/i386/mm/init.c); ZONE_HIGHMEM is the rest.
 * GFP_KERNEL allocations (page tables, kernel stacks, slab) take lowmem only; GFP_HIGHUSER
 * allocations (user pages) try highmem first and fall back to lowmem (the zonelist order
 * built by build_zonelists). With at most 896 MiB the highmem zone is empty and the
 * allocator behaves exactly as a single-zone one.
 */
import type { Rng } from '../../../shared/rng.js';
import type { GuestMemory } from '../../machine/memory.js';
import type { RecordBus, RecordSource } from '../../smp/bus.js';
import { emitRefill, M_REFILL, readRefill, type Refill } from '../../smp/records/refill.js';

/** Frames of lowmem (ZONE_DMA + ZONE_NORMAL): 896 MiB of 4 KiB frames. */
export const LOWMEM_FRAMES = (896 * 1024 * 1024) / 4096;

/** A guest run out of memory: a config asked for more tasks than the guest holds. */
export class GuestOutOfMemory extends Error {
  readonly code = 'EGUESTOOM';
}

/** Frames per block the free stack is shuffled within (1 MiB). */
const SHUFFLE_BLOCK = 256;

/**
 * One zone's free frames: a LIFO stack, half of it dealt to per-vCPU stacks once the vCPUs
 * start (the rest is the reserve).
 *
 * The stack starts as the zone's frames, highest at the bottom, each 256-frame block
 * shuffled in turn from the bottom by the seed's generator (a Fisher-Yates shuffle per
 * block). A block is laid out and shuffled when the allocator first reaches it, not at
 * boot: a run uses a few blocks of a 256 MiB guest's 256. The frames are the same: the
 * generator is mulberry32, whose state after k draws is its start plus k steps (Rng.skip),
 * so a block's shuffle takes the draws it would have had in order, and the kernel's
 * generator passes over all of them at boot.
 */
class ZoneFree {
  /** The zone's free frames; once dealt, the reserve the per-vCPU lists refill from. Below `laidOut`: not yet written. */
  stack: Int32Array;
  n = 0;
  cpuStacks: Int32Array[] | null = null;
  cpuFree = new Int32Array(0);
  /** Each vCPU's share: what it was dealt, and what a refill fills its list back to. */
  share = new Int32Array(0);
  /** Frames handed out from this zone (monotonic: the zone's allocation counter). */
  allocs = 0;
  /** Slots below this still hold their boot order and shuffle, not yet laid out (a multiple of SHUFFLE_BLOCK, or all of them). */
  private laidOut: number;
  /** The zone's highest frame + 1 (slot i of the boot order holds frame hi - 1 - i). */
  private readonly hi: number;
  /** The generator where the zone's shuffle began. */
  private readonly rng0: Rng;

  /** Frames `lo`..`hi`-1, highest at the bottom, shuffled within 256-frame blocks by `rng` (which passes over those draws now). */
  constructor(lo: number, hi: number, rng: Rng) {
    const n = Math.max(0, hi - lo);
    this.stack = new Int32Array(n);
    this.n = this.laidOut = n;
    this.hi = hi;
    this.rng0 = rng.copy();
    // A block of m frames takes m - 1 draws.
    const full = Math.floor(n / SHUFFLE_BLOCK);
    const last = n - full * SHUFFLE_BLOCK;
    rng.skip(full * (SHUFFLE_BLOCK - 1) + (last > 0 ? last - 1 : 0));
  }

  /** Lay out and shuffle the blocks down to slot `to` (the boot order of each, then its shuffle). */
  private layOut(to: number): void {
    const st = this.stack;
    while (this.laidOut > to) {
      const start = Math.floor((this.laidOut - 1) / SHUFFLE_BLOCK) * SHUFFLE_BLOCK;
      const end = this.laidOut;
      for (let i = start; i < end; i++) st[i] = this.hi - 1 - i;
      const r = this.rng0.copy();
      r.skip((start / SHUFFLE_BLOCK) * (SHUFFLE_BLOCK - 1));
      for (let i = end - 1; i > start; i--) {
        const j = start + r.below(i - start + 1);
        const t = st[i]!;
        st[i] = st[j]!;
        st[j] = t;
      }
      this.laidOut = start;
    }
  }

  /** The top of the stack, taken off it. */
  private pop(): number {
    if (this.n <= this.laidOut) this.layOut(this.n - 1);
    return this.stack[--this.n]!;
  }

  get free(): number {
    if (this.cpuStacks === null) return this.n;
    let s = this.n;
    for (let c = 0; c < this.cpuFree.length; c++) s += this.cpuFree[c]!;
    return s;
  }

  /** A frame from `cpu`'s list (or the whole zone's before the split), or -1 if it is empty. */
  take(cpu: number): number {
    if (this.cpuStacks !== null) {
      if (this.cpuFree[cpu] === 0) return -1;
      this.allocs++;
      return this.cpuStacks[cpu]![--this.cpuFree[cpu]!]!;
    }
    if (this.n === 0) return -1;
    this.allocs++;
    return this.pop();
  }

  /** Frames `cpu`'s list asks of the reserve at a quantum's end: back to its share once below half of it (0: none). */
  wants(cpu: number): number {
    if (this.cpuStacks === null || this.n === 0) return 0;
    const have = this.cpuFree[cpu]!;
    const share = this.share[cpu]!;
    return have * 2 < share ? share - have : 0;
  }

  /** The merge of a refill: `count` frames off the top of the reserve, onto `cpu`'s list if this replica runs it. */
  refill(cpu: number, count: number, local: boolean, maxFrames: number): void {
    const k = Math.min(count, this.n);
    for (let i = 0; i < k; i++) {
      const f = this.pop();
      if (local) this.put(f, cpu, maxFrames);
    }
  }

  put(f: number, cpu: number, maxFrames: number): void {
    if (this.cpuStacks !== null) {
      let st = this.cpuStacks[cpu]!;
      const n = this.cpuFree[cpu]!;
      if (n === st.length) {
        // A vCPU frees more than it was dealt (frames another vCPU allocated): its list grows.
        const grown = new Int32Array(Math.min(maxFrames, Math.max(64, n * 2)));
        grown.set(st);
        st = this.cpuStacks[cpu] = grown;
      }
      st[n] = f;
      this.cpuFree[cpu] = n + 1;
      return;
    }
    this.stack[this.n++] = f;
  }

  /** Deal half the free frames to `cpus` vCPUs, in turn from the top of the stack; the rest stays as the reserve. */
  split(cpus: number): void {
    const n = this.n;
    const dealt = n - (n >>> 1);
    this.layOut(n - dealt);
    this.cpuFree = Int32Array.from({ length: cpus }, (_, c) => Math.ceil((dealt - c) / cpus));
    this.share = this.cpuFree.slice();
    // Each list is sized by its share and grows when frees exceed it (put).
    this.cpuStacks = Array.from({ length: cpus }, (_, c) => new Int32Array(Math.max(64, this.cpuFree[c]!)));
    // Frame k from the top of the stack goes to vCPU k mod cpus, as its (k div cpus)-th from the top.
    for (let k = 0; k < dealt; k++) {
      const c = k % cpus;
      this.cpuStacks[c]![this.cpuFree[c]! - 1 - Math.floor(k / cpus)] = this.stack[n - 1 - k]!;
    }
    this.n = n - dealt;
    this.stack = this.stack.slice(0, this.n);
  }

  /** vCPU `cpu`'s list is another replica's from now on: this one lets go of its frames (its count stays). */
  dropCpu(cpu: number): void {
    if (this.cpuStacks !== null) this.cpuStacks[cpu] = new Int32Array(0);
  }

  get words(): number {
    return this.stack.length + (this.cpuStacks ?? []).reduce((a, st) => a + st.length, 0);
  }
}

export class PageAllocator {
  /** ZONE_NORMAL (with ZONE_DMA folded in): frames below LOWMEM_FRAMES. */
  private readonly normal: ZoneFree;
  /** ZONE_HIGHMEM: frames from LOWMEM_FRAMES up (empty with at most 896 MiB). */
  private readonly highmem: ZoneFree;
  private split = false;
  private readonly rf: Refill = { zone: 0, count: 0 };

  /**
   * @param reserved frames below this are the kernel image and boot data, never allocated
   * @param rng shuffles the free lists within 1 MiB blocks (lowmem first, then highmem)
   */
  constructor(
    readonly mem: GuestMemory,
    reserved: number,
    rng: Rng,
  ) {
    const low = Math.min(mem.numFrames, LOWMEM_FRAMES);
    this.normal = new ZoneFree(reserved, low, rng);
    this.highmem = new ZoneFree(low, mem.numFrames, rng);
  }

  /** Frames the kernel direct-maps (lowmem). */
  get lowmemFrames(): number {
    return Math.min(this.mem.numFrames, LOWMEM_FRAMES);
  }

  /** Words the free lists hold room for (what the allocator costs in memory, 4 bytes each). */
  get listWords(): number {
    return this.normal.words + this.highmem.words;
  }

  /** Free frames in both zones. */
  get freeFrames(): number {
    return this.normal.free + this.highmem.free;
  }

  /** Zone counters (/proc/zoneinfo's nr_free_pages, and frames handed out per zone). */
  get zones(): { normalFree: number; highmemFree: number; normalAllocs: number; highmemAllocs: number } {
    return { normalFree: this.normal.free, highmemFree: this.highmem.free, normalAllocs: this.normal.allocs, highmemAllocs: this.highmem.allocs };
  }

  /** A GFP_KERNEL frame (lowmem only), from `cpu`'s list once the lists are split (one list for the whole guest before). */
  allocFrame(cpu = 0): number {
    const f = this.normal.take(this.split ? cpu : 0);
    if (f < 0) throw this.exhausted(cpu);
    return f;
  }

  /** A GFP_HIGHUSER frame (a user page): highmem first, then lowmem (the zonelist fallback). */
  allocHighUser(cpu = 0): number {
    const f = this.highmem.take(this.split ? cpu : 0);
    return f >= 0 ? f : this.allocFrame(cpu);
  }

  private exhausted(cpu: number): GuestOutOfMemory {
    const on = this.split ? ` on vCPU ${cpu}` : '';
    const shared = this.split ? ', split between vCPUs' : '';
    if (this.mem.numFrames <= LOWMEM_FRAMES) return new GuestOutOfMemory(`guest memory exhausted${on} (${this.mem.numFrames} frames of 4 KiB${shared})`);
    return new GuestOutOfMemory(`guest lowmem exhausted${on} (${LOWMEM_FRAMES} frames of 4 KiB${shared}; ${this.highmem.free} highmem frames free, which kernel allocations cannot use)`);
  }

  /** Free a frame to its zone (to `cpu`'s list once split). Its contents stay as they were (real memory is not wiped on free). */
  freeFrame(f: number, cpu = 0): void {
    const z = f >= LOWMEM_FRAMES ? this.highmem : this.normal;
    z.put(f, this.split ? cpu : 0, this.mem.numFrames);
  }

  /**
   * Deal each zone's free frames to `cpus` vCPUs, in turn from the top of the stack, so
   * each vCPU allocates from its own lists (the same frames in every replica of the VM).
   */
  splitFree(cpus: number): void {
    if (cpus <= 1 || this.split) return;
    this.normal.split(cpus);
    this.highmem.split(cpus);
    this.split = true;
  }

  /** Several vCPUs: at each quantum's end a local list below half its share asks the reserve for frames (M_REFILL). */
  attachSmp(bus: RecordBus, vcpus: readonly RecordSource[]): void {
    const zones = [this.normal, this.highmem];
    bus.atQuantumEnd((cpu) => {
      for (let z = 0; z < 2; z++) {
        const want = zones[z]!.wants(cpu);
        if (want > 0) emitRefill(bus, vcpus[cpu]!, z, want);
      }
    });
    bus.on(M_REFILL, (d, at, src) => {
      const r = readRefill(d, at, this.rf);
      zones[r.zone]!.refill(src, r.count, bus.isLocal(src), this.mem.numFrames);
    });
    bus.onDropVcpu((cpu) => this.dropCpu(cpu));
  }

  /** vCPU `cpu` runs on another replica from now on (worker/smp/bus.ts onDropVcpu): its lists are that replica's. */
  dropCpu(cpu: number): void {
    this.normal.dropCpu(cpu);
    this.highmem.dropCpu(cpu);
  }

  /** A frame to hold a page table (or directory), all entries zero (boot and set-up, not trapped). Lowmem: no CONFIG_HIGHPTE. */
  allocPageTable(): number {
    const f = this.allocFrame();
    this.mem.holdPageTable(f);
    this.mem.zeroFrom(f, 0);
    return f;
  }
}
