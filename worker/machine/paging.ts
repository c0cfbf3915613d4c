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

// ---------------------------------------------------------------------------------------
// x86-64 four-level paging (Intel SDM vol. 3, 4.5): PML4, PDPT, PD and PT, 512 entries
// each. The entries are 64 bits wide; the model keeps their low 32 bits (frames below
// 4 GiB, the flags above), which is all it reads.

export const X64_ENTRIES = 512;
export const X64_LEVELS = 4;

/**
 * The model names a guest's virtual pages by numbers below 2^20 whatever its paging
 * (workloads and kernel paths use the same names): user pages below X64_KERNEL_VPN, the
 * kernel's at X64_KERNEL_VPN + frame. An x86-64 guest places them as a 64-bit kernel
 * lays out its address space: the program's text and heap in PML4 slot 0, its libraries
 * and stack (the pages from X64_USER_HIGH_VPN) in slot 255 (the 0x7f... mmap area), the
 * kernel in slot 273 (the direct map at 0xffff888000000000; the model keeps the kernel
 * image there too). Below the PML4 the page's own bits index the tables.
 */
export const X64_KERNEL_VPN = 0xc0000;
export const X64_USER_HIGH_VPN = 0xb0000;
export const PML4_USER_LOW = 0;
export const PML4_USER_HIGH = 255;
export const PML4_KERNEL = 273;
/** The first PML4 slot of the kernel half (KERNEL_PGD_BOUNDARY: 256 of 512). */
export const PML4_KERNEL_FIRST = 256;

/** The index at `level` (4: PML4 .. 1: PT) of the entry that maps page `vpn` of an x86-64 guest. */
export function x64Index(vpn: number, level: number): number {
  const kernel = vpn >= X64_KERNEL_VPN;
  if (level === 4) return kernel ? PML4_KERNEL : vpn >= X64_USER_HIGH_VPN ? PML4_USER_HIGH : PML4_USER_LOW;
  const rel = kernel ? vpn - X64_KERNEL_VPN : vpn;
  return (rel >>> (9 * (level - 1))) & (X64_ENTRIES - 1);
}

/**
 * The walk of an x86-64 guest's four levels from PML4 frame `pml4` for `vpn`: the PTE,
 * or 0 when an entry on the way is not present. Sets the accessed bit of every entry
 * used, and the PTE's dirty bit on a write, as the hardware does. With `tables`, the
 * frame of the table read at each level goes to `tables[level]` (4: the PML4 .. 1: the PT)
 * as the walk reaches it.
 */
export function walk4(mem: PageTableMemory, pml4: number, vpn: number, write: boolean, tables: Int32Array | null = null): number {
  let table = pml4;
  for (let level = 4; level > 1; level--) {
    if (tables !== null) tables[level] = table;
    const i = x64Index(vpn, level);
    const e = mem.readEntry(table, i);
    if ((e & PTE_P) === 0) return 0;
    if ((e & PTE_A) === 0) mem.writeEntry(table, i, e | PTE_A);
    table = e >>> PAGE_SHIFT;
  }
  if (tables !== null) tables[1] = table;
  const i = x64Index(vpn, 1);
  const pte = mem.readEntry(table, i);
  if ((pte & PTE_P) === 0) return 0;
  const set = write ? PTE_A | PTE_D : PTE_A;
  if ((pte & set) !== set) mem.writeEntry(table, i, pte | set);
  return pte | set;
}

/**
 * The frame of the table at `level` (3: PDPT .. 1: PT) on the way to `vpn` from PML4
 * `pml4`, or -1 if an entry above it is not present (no side effects: the kernel's own
 * reads of its tables, and the hypervisor's).
 */
export function tableAt(mem: PageTableMemory, pml4: number, vpn: number, level: number): number {
  let table = pml4;
  for (let l = 4; l > level; l--) {
    const e = mem.readEntry(table, x64Index(vpn, l));
    if ((e & PTE_P) === 0) return -1;
    table = e >>> PAGE_SHIFT;
  }
  return table;
}
