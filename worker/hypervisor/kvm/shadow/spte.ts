/**
 * Shadow page-table entries of KVM's MMU of early 2007 for a 32-bit guest, in one place.
 * The guest's two-level tables (4-byte entries) are shadowed with PAE tables (8-byte
 * entries, 512 a page: paging32_init_context sets shadow_root_level PT32E_ROOT_LEVEL), so
 * one guest table is several shadow pages, each with a role that says which part
 * (kvm_mmu_get_page's role.quadrant, drivers/kvm/mmu.c of 2.6.20):
 *  - a guest page directory (4 GiB) is four PAE page directories, quadrant 0..3, one per
 *    1 GiB; all four are a cr3's roots (mmu_alloc_roots);
 *  - a guest page table (4 MiB) is up to two PAE page tables, quadrant 0..1, one per
 *    2 MiB half, made on demand.
 * A guest PDE `pdi` is the two shadow PDEs ((pdi & 255) << 1) and + 1 of quadrant
 * pdi >> 8; a guest PTE `pti` is entry pti & 511 of half pti >> 9.
 *
 * Encoding in a shard's entry store: SPTE_NONE (-1) = not present. A directory entry holds
 * the index of the child shadow page. A page-table entry holds
 * (frame << 2) | writable << 1 | global.
 */
export const LEVEL_PT = 1;
export const LEVEL_PD = 2;
/** Entries of a PAE shadow page. */
export const SPTE_ENTRIES = 512;
export const SPTE_NONE = -1;

export const SPTE_GLOBAL = 1;
export const SPTE_WRITABLE = 2;

/** The quadrant of the root that maps page `vpn` (which 1 GiB). */
export const rootQuadrant = (vpn: number): number => vpn >>> 18;
/** The half (2 MiB) of its guest page table that maps `vpn`. */
export const ptHalf = (vpn: number): number => (vpn >>> 9) & 1;
/** The shadow PDE, in its quadrant's root, for `vpn`. */
export const shadowPdIndex = (vpn: number): number => (vpn >>> 9) & (SPTE_ENTRIES - 1);
/** The shadow PTE, in its half's shadow page table, for `vpn`. */
export const shadowPtIndex = (vpn: number): number => vpn & (SPTE_ENTRIES - 1);

/** A level-1 entry mapping guest frame `frame`. */
export function makeSpte(frame: number, writable: boolean, global: boolean): number {
  return (frame << 2) | (writable ? SPTE_WRITABLE : 0) | (global ? SPTE_GLOBAL : 0);
}

/** The guest frame a level-1 entry maps. */
export function spteFrame(e: number): number {
  return e >>> 2;
}
