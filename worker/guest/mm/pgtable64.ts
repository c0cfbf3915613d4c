/**
 * An x86-64 guest's page tables (arch/x86/mm/pgtable.c, init_64.c, pti.c of Linux 4.15
 * and later): four levels of 512 entries. The kernel half of every PML4 (slots 256..511)
 * is init_top_pgt's, copied at pgd_alloc (clone_pgd_range of KERNEL_PGD_PTRS); below it
 * the kernel's tables are shared. A process's user half grows a PDPT, a PD and a PT as
 * its mappings need them (__pud_alloc, __pmd_alloc, __pte_alloc).
 *
 * With page-table isolation a process has a second, user PML4 (pgd_alloc allocates the
 * two as one order-1 page; kernel_to_user_pgdp): every write of a user-half PML4 entry
 * goes to both (pti_set_user_pgtbl), and its kernel half maps only what the entry code
 * needs before it switches cr3, the entry text (pti_clone_entry_text, global). The
 * kernel's own mappings lose _PAGE_GLOBAL (__default_kernel_pte_mask), except the kernel
 * text when the CPU has no PCID (pti_kernel_image_global_ok).
 *
 * The model keeps its i386 page names (machine/paging.ts: x64Index places them).
 */
import type { GuestMemory } from '../../machine/memory.js';
import { PAGE_SHIFT, PML4_KERNEL, PML4_KERNEL_FIRST, PTE_A, PTE_D, PTE_G, PTE_P, PTE_RW, PTE_US, X64_ENTRIES, x64Index } from '../../machine/paging.js';
import type { GuestCpu } from '../cpu.js';
import { KERNEL_IMAGE_FRAME, KERNEL_VPN_BASE, KTEXT } from '../layout.js';
import type { Mm } from '../task.js';
import type { PageAllocator } from './page-alloc.js';

/** Frames of the kernel image's text (the model's kernel paths live in its first pages, layout.ts KTEXT). */
const KERNEL_TEXT_FRAMES = 32;

/** What the tables need of the memory manager: page-table pages and stores that may trap. */
export interface TableStore {
  /** A zeroed page for a page table (at run time through `cpu`, at set-up without). */
  pageTablePage(cpu: GuestCpu | null): number;
  /** A store to entry `index` of table `frame` (at run time seen by the platform). */
  store(cpu: GuestCpu | null, frame: number, index: number, value: number): void;
}

export class X64PageTables {
  /** The kernel half's one populated PML4 entry (slot PML4_KERNEL): every PML4 copies it. */
  private kernelPml4e = 0;
  /** With PTI: the user PML4's entry for the same slot, mapping only the entry text. */
  private ptiPml4e = 0;

  constructor(
    private readonly mem: GuestMemory,
    private readonly pages: PageAllocator,
    private readonly pti: boolean,
    /** The CPU has PCID and the guest uses it (the kernel text is then not global under PTI). */
    private readonly pcid: boolean,
  ) {}

  /**
   * The direct map (init_mem_mapping) of every lowmem frame at its kernel page, with 4 KiB
   * pages (the model maps no large pages: docs/modern.md), global unless PTI takes it away.
   */
  buildKernel(lowmemFrames: number): void {
    const mem = this.mem;
    const pdpt = this.pages.allocPageTable();
    const pds = new Map<number, number>();
    const pts = new Map<number, number>();
    // Each page table's words, written a table at a time (GuestMemory.writeTable).
    const words = new Uint32Array(X64_ENTRIES);
    let filling = -1;
    const flush = (): void => {
      if (filling < 0) return;
      mem.writeTable(filling, words);
      words.fill(0);
    };
    for (let f = 0; f < lowmemFrames; f++) {
      const vpn = kernelVpnOf(f);
      const i3 = x64Index(vpn, 3);
      let pd = pds.get(i3);
      if (pd === undefined) {
        pd = this.pages.allocPageTable();
        pds.set(i3, pd);
        mem.writeEntry(pdpt, i3, (pd << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A);
      }
      const ptKey = i3 * X64_ENTRIES + x64Index(vpn, 2);
      let pt = pts.get(ptKey);
      if (pt === undefined) {
        pt = this.pages.allocPageTable();
        pts.set(ptKey, pt);
        mem.writeEntry(pd, x64Index(vpn, 2), (pt << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A);
      }
      if (pt !== filling) {
        flush();
        filling = pt;
      }
      words[x64Index(vpn, 1)] = (f << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A | PTE_D | (this.kernelGlobal(f) ? PTE_G : 0);
    }
    flush();
    this.kernelPml4e = (pdpt << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A;
    if (this.pti) {
      // The user PML4's kernel slot: a PDPT, PD and PT of its own mapping the entry text alone.
      const vpn = KTEXT.entry;
      const uPdpt = this.pages.allocPageTable();
      const uPd = this.pages.allocPageTable();
      const uPt = this.pages.allocPageTable();
      mem.writeEntry(uPdpt, x64Index(vpn, 3), (uPd << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A);
      mem.writeEntry(uPd, x64Index(vpn, 2), (uPt << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A);
      mem.writeEntry(uPt, x64Index(vpn, 1), ((vpn - KERNEL_VPN_BASE) << PAGE_SHIFT) | PTE_P | PTE_A | PTE_D | PTE_G);
      this.ptiPml4e = (uPdpt << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A;
    }
  }

  /** Is frame `f`'s direct mapping global? Without PTI every kernel mapping is; with it only the text, and only without PCID. */
  private kernelGlobal(f: number): boolean {
    if (!this.pti) return true;
    return !this.pcid && f >= KERNEL_IMAGE_FRAME && f < KERNEL_IMAGE_FRAME + KERNEL_TEXT_FRAMES;
  }

  /** pgd_alloc's kernel half: the kernel PML4 entry (and with PTI the user PML4's entry-text one). */
  initPgd(t: TableStore, cpu: GuestCpu | null, mm: Mm): void {
    t.store(cpu, mm.pdFrame, PML4_KERNEL, this.kernelPml4e);
    if (mm.userPgd >= 0) t.store(cpu, mm.userPgd, PML4_KERNEL, this.ptiPml4e);
  }

  /** The copy of init_top_pgt's kernel half into a PML4 made elsewhere (no stores seen). */
  initPgdDirect(mm: Mm): void {
    this.mem.writeEntry(mm.pdFrame, PML4_KERNEL, this.kernelPml4e);
    if (mm.userPgd >= 0) this.mem.writeEntry(mm.userPgd, PML4_KERNEL, this.ptiPml4e);
  }

  /**
   * The page table that maps user page `vpn` of `mm`, with the PDPT, PD and PT on the way
   * allocated and entered as needed (the PML4 entry in both PML4s with PTI).
   */
  leafFor(t: TableStore, cpu: GuestCpu | null, mm: Mm, vpn: number): number {
    const mem = this.mem;
    let table = mm.pdFrame;
    for (let level = 4; level > 1; level--) {
      const i = x64Index(vpn, level);
      const e = mem.readEntry(table, i);
      if ((e & PTE_P) !== 0) {
        table = e >>> PAGE_SHIFT;
        continue;
      }
      const child = t.pageTablePage(cpu);
      const entry = (child << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_US | PTE_A;
      t.store(cpu, table, i, entry);
      if (level === 4 && mm.userPgd >= 0 && i < PML4_KERNEL_FIRST) t.store(cpu, mm.userPgd, i, entry);
      if (level > 2) mm.upperTables.push(child, table, i);
      else {
        mm.userPtFrames.push(child);
        mm.userPtPdis.push(i);
        mm.userPtParents.push(table);
      }
      table = child;
    }
    return table;
  }

  /**
   * free_pgtables after the PTEs are gone: each PT's PMD entry cleared and the PT freed
   * (free_pte_range), then the PDs and PDPTs the same way, the deepest first
   * (free_pmd_range, free_pud_range), their PML4 entries cleared in both PML4s.
   */
  freeTables(t: TableStore, cpu: GuestCpu, mm: Mm): void {
    for (let i = 0; i < mm.userPtFrames.length; i++) {
      t.store(cpu, mm.userPtParents[i]!, mm.userPtPdis[i]!, 0);
      this.pages.freeFrame(mm.userPtFrames[i]!, cpu.id);
    }
    const up = mm.upperTables;
    for (let i = up.length - 3; i >= 0; i -= 3) {
      const parent = up[i + 1]!;
      const index = up[i + 2]!;
      t.store(cpu, parent, index, 0);
      if (parent === mm.pdFrame && mm.userPgd >= 0) t.store(cpu, mm.userPgd, index, 0);
      this.pages.freeFrame(up[i]!, cpu.id);
    }
    mm.userPtFrames.length = 0;
    mm.userPtPdis.length = 0;
    mm.userPtParents.length = 0;
    mm.upperTables.length = 0;
  }

  /** The entry that maps `vpn` in `mm`'s tables: its table's frame (-1 if none) for a store. */
  leafOf(mm: Mm, vpn: number): number {
    let table = mm.pdFrame;
    for (let level = 4; level > 1; level--) {
      const e = this.mem.readEntry(table, x64Index(vpn, level));
      if ((e & PTE_P) === 0) return -1;
      table = e >>> PAGE_SHIFT;
    }
    return table;
  }
}

/** The kernel page of frame `f` (the direct map): the model's kernel page names. */
const kernelVpnOf = (f: number): number => KERNEL_VPN_BASE + f;
