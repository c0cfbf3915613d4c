/**
 * KVM's list of shadow pages in use, `kvm->arch.active_mmu_pages` (`active_mmu_pages` in
 * drivers/kvm/kvm.h of 2007): a page is added at the head when it is made
 * (kvm_mmu_alloc_page, `list_add`), so the oldest is at the tail, where eviction starts
 * (kvm_mmu_free_some_pages, kvm_mmu_zap_oldest_mmu_pages). A doubly-linked list over page
 * numbers, in typed arrays; shared by the 2007 pool (shadow/pages.ts) and today's
 * (mmu/pages.ts).
 */
const NONE = -1;

export class ActiveList {
  /** Neighbours towards the head (`prev`) and the tail (`next`), -1 at the ends or off the list. */
  readonly prev: Int32Array;
  readonly next: Int32Array;
  head = NONE;
  tail = NONE;

  constructor(pages: number) {
    this.prev = new Int32Array(pages).fill(NONE);
    this.next = new Int32Array(pages).fill(NONE);
  }

  /** list_add: `sp` becomes the newest. */
  pushHead(sp: number): void {
    this.prev[sp] = NONE;
    this.next[sp] = this.head;
    if (this.head !== NONE) this.prev[this.head] = sp;
    this.head = sp;
    if (this.tail === NONE) this.tail = sp;
  }

  /** list_del. */
  unlink(sp: number): void {
    const p = this.prev[sp]!;
    const n = this.next[sp]!;
    if (p !== NONE) this.next[p] = n;
    else this.head = n;
    if (n !== NONE) this.prev[n] = p;
    else this.tail = p;
    this.prev[sp] = NONE;
    this.next[sp] = NONE;
  }
}
