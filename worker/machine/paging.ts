/**
 * i386 32-bit two-level paging without PAE (Intel SDM vol. 3, 4.3): a page directory of
 * 1024 PDEs, each pointing to a page table of 1024 PTEs, each mapping one 4 KiB frame.
 * The entry bits are named as Linux names them (_PAGE_* in include/asm-i386/pgtable.h).
 */

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

/** The page-directory index of virtual page `vpn`: which PDE maps it. */
export const pdIndex = (vpn: number): number => vpn >>> 10;

/** The page-table index of virtual page `vpn`: which PTE of its page table maps it. */
export const ptIndex = (vpn: number): number => vpn & (PT_ENTRIES - 1);

/** What the walk reads and writes: the entries of page-table frames (guest memory, memory.ts). */
export interface PageTableMemory {
  readEntry(frame: number, index: number): number;
  writeEntry(frame: number, index: number, value: number): void;
}

/**
 * The MMU's two-level walk of guest tables rooted at page directory `pdFrame` for
 * virtual page `vpn`. Returns the PTE, or 0 when the PDE or PTE is not present.
 * Sets the accessed bits, and the dirty bit on a write, as the hardware does.
 */
export function walk(mem: PageTableMemory, pdFrame: number, vpn: number, write: boolean): number {
  const pdi = pdIndex(vpn);
  const pde = mem.readEntry(pdFrame, pdi);
  if ((pde & PTE_P) === 0) return 0;
  const ptFrame = pde >>> PAGE_SHIFT;
  const pti = ptIndex(vpn);
  const pte = mem.readEntry(ptFrame, pti);
  if ((pte & PTE_P) === 0) return 0;
  if ((pde & PTE_A) === 0) mem.writeEntry(pdFrame, pdi, pde | PTE_A);
  const set = write ? PTE_A | PTE_D : PTE_A;
  if ((pte & set) !== set) mem.writeEntry(ptFrame, pti, pte | set);
  return pte | set;
}
