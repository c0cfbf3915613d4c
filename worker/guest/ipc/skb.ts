/**
 * The skbuff slab (mm/slab.c's skbuff_head_cache and kmalloc-512, net/core/skbuff.c):
 * objects handed out LIFO (the most recently freed first, as the
 * slab's per-CPU array cache does), each living on a slab page. Which pages a message
 * touches therefore depends on how many messages are in flight. Slab pages are guest
 * frames, taken from the page allocator the first time they are needed.
 *
 * Each vCPU has its own range of objects and pages (a per-CPU cache that never needs
 * the others); an object freed on another vCPU goes back to its own vCPU's list when
 * that vCPU learns of the free, at the quantum's end.
 *
 * Memory grows with the objects in use, not with the range: a vCPU's free list holds
 * only objects freed since (above them, its never-used objects are handed out in
 * ascending order, as a freshly grown slab's are), and its page map grows to the
 * highest page it has used.
 */
import { grouped } from '../../../shared/grouped.js';

/** A vCPU's range of the skb slab is full: more socket buffers in flight than the model keeps per vCPU. */
export class SkbSlabExhausted extends Error {
  constructor(readonly capacity: number) {
    super(`a vCPU's skb slab of ${grouped(capacity)} objects is full`);
  }
}

/** A per-vCPU array that doubles as it is written past its end; unset entries read `fill`. */
function grown(a: Int32Array, need: number, max: number, fill: number): Int32Array {
  if (need <= a.length) return a;
  let n = Math.max(16, a.length);
  while (n < need) n *= 2;
  const b = new Int32Array(Math.min(n, max));
  if (fill !== 0) b.fill(fill);
  b.set(a);
  return b;
}

const EMPTY = new Int32Array(0);

export class SkbSlab {
  /** Each vCPU's objects freed and not yet handed out again (a stack: the last freed on top). */
  private readonly freeSlots: Int32Array[];
  private readonly nFree: Int32Array;
  /** Each vCPU's objects handed out at least once (the next never-used one is base + used). */
  private readonly used: Int32Array;
  /** Each vCPU's slab pages (VPN, -1 until taken), by page index within its range. */
  private readonly headPage: Int32Array[];
  private readonly dataPage: Int32Array[];
  private readonly headPages: number;
  private readonly dataPages: number;
  constructor(
    readonly capacity: number,
    readonly cpus: number,
    readonly headsPerPage: number,
    readonly dataPerPage: number,
    /** Where its pages come from: a kernel page of vCPU `cpuId`'s list (the memory manager; an object, not a closure made per VM, so that the call is the same in every VM of a thread). */
    private readonly pages: { kernelPage(cpu: null, cpuId: number): number },
  ) {
    if (capacity % headsPerPage !== 0 || capacity % dataPerPage !== 0) throw new Error('skb slab capacity must fill whole pages');
    this.headPages = capacity / headsPerPage;
    this.dataPages = capacity / dataPerPage;
    this.freeSlots = Array.from({ length: cpus }, () => EMPTY);
    this.headPage = Array.from({ length: cpus }, () => EMPTY);
    this.dataPage = Array.from({ length: cpus }, () => EMPTY);
    this.nFree = new Int32Array(cpus);
    this.used = new Int32Array(cpus);
  }

  /** Another replica runs vCPU `cpu` from now on: its objects are never allocated or freed here again. */
  dropCpu(cpu: number): void {
    this.freeSlots[cpu] = EMPTY;
    this.nFree[cpu] = 0;
  }

  /** The vCPU whose cache an object belongs to. */
  ownerOf(slot: number): number {
    return Math.floor(slot / this.capacity);
  }

  alloc(cpu: number): number {
    if (this.nFree[cpu]! > 0) return this.freeSlots[cpu]![--this.nFree[cpu]!]!;
    const u = this.used[cpu]!;
    if (u === this.capacity) throw new SkbSlabExhausted(this.capacity);
    this.used[cpu] = u + 1;
    return cpu * this.capacity + u;
  }

  free(slot: number): void {
    const cpu = this.ownerOf(slot);
    const n = this.nFree[cpu]!;
    const l = (this.freeSlots[cpu] = grown(this.freeSlots[cpu]!, n + 1, this.capacity, 0));
    l[n] = slot;
    this.nFree[cpu] = n + 1;
  }

  /** Page (VPN) of the sk_buff head of `slot`. */
  headVpn(slot: number): number {
    return this.pageOf(this.headPage, this.headsPerPage, this.headPages, slot);
  }

  /** Page (VPN) of the data area of `slot`. */
  dataVpn(slot: number): number {
    return this.pageOf(this.dataPage, this.dataPerPage, this.dataPages, slot);
  }

  /** The page holding `slot` in one of the two page maps (`perPage` objects a page, `pages` pages a vCPU), taken on first use. */
  private pageOf(maps: Int32Array[], perPage: number, pages: number, slot: number): number {
    const i = Math.floor(slot / perPage);
    const cpu = Math.floor(i / pages);
    const j = i - cpu * pages;
    const map = maps[cpu]!;
    let p = j < map.length ? map[j]! : -1;
    if (p < 0) {
      p = this.pages.kernelPage(null, cpu);
      (maps[cpu] = grown(map, j + 1, pages, -1))[j] = p;
    }
    return p;
  }

  /** Learn the pages of an object another vCPU allocated (from its message). */
  notePages(slot: number, head: number, data: number): void {
    const cpu = this.ownerOf(slot);
    const hi = Math.floor(slot / this.headsPerPage) - cpu * this.headPages;
    const di = Math.floor(slot / this.dataPerPage) - cpu * this.dataPages;
    (this.headPage[cpu] = grown(this.headPage[cpu]!, hi + 1, this.headPages, -1))[hi] = head;
    (this.dataPage[cpu] = grown(this.dataPage[cpu]!, di + 1, this.dataPages, -1))[di] = data;
  }
}
