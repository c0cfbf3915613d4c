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
 */
export class SkbSlab {
  private readonly freeSlots: Int32Array[];
  private readonly nFree: Int32Array;
  private readonly headPage: Int32Array;
  private readonly dataPage: Int32Array;
  constructor(
    readonly capacity: number,
    readonly cpus: number,
    readonly headsPerPage: number,
    readonly dataPerPage: number,
    private readonly newPage: (cpu: number) => number,
  ) {
    if (capacity % headsPerPage !== 0 || capacity % dataPerPage !== 0) throw new Error('skb slab capacity must fill whole pages');
    this.freeSlots = [];
    this.nFree = new Int32Array(cpus);
    this.headPage = new Int32Array((capacity / headsPerPage) * cpus).fill(-1);
    this.dataPage = new Int32Array((capacity / dataPerPage) * cpus).fill(-1);
  }
  private list(cpu: number): Int32Array {
    let l = this.freeSlots[cpu];
    if (l === undefined) {
      l = this.freeSlots[cpu] = new Int32Array(this.capacity);
      const base = cpu * this.capacity;
      for (let i = 0; i < this.capacity; i++) l[i] = base + this.capacity - 1 - i;
      this.nFree[cpu] = this.capacity;
    }
    return l;
  }
  /** The vCPU whose cache an object belongs to. */
  ownerOf(slot: number): number {
    return Math.floor(slot / this.capacity);
  }
  alloc(cpu: number): number {
    const l = this.list(cpu);
    if (this.nFree[cpu] === 0) throw new Error('skb slab exhausted');
    return l[--this.nFree[cpu]!]!;
  }
  free(slot: number): void {
    const cpu = this.ownerOf(slot);
    const l = this.list(cpu);
    l[this.nFree[cpu]!++] = slot;
  }
  /** Page (VPN) of the sk_buff head of `slot`. */
  headVpn(slot: number): number {
    const i = Math.floor(slot / this.headsPerPage);
    let p = this.headPage[i]!;
    if (p < 0) p = this.headPage[i] = this.newPage(this.ownerOf(slot));
    return p;
  }
  /** Page (VPN) of the data area of `slot`. */
  dataVpn(slot: number): number {
    const i = Math.floor(slot / this.dataPerPage);
    let p = this.dataPage[i]!;
    if (p < 0) p = this.dataPage[i] = this.newPage(this.ownerOf(slot));
    return p;
  }
  /** Learn the pages of an object another vCPU allocated (from its message). */
  notePages(slot: number, head: number, data: number): void {
    this.headPage[Math.floor(slot / this.headsPerPage)] = head;
    this.dataPage[Math.floor(slot / this.dataPerPage)] = data;
  }
}
