/**
 * The guest's memory management: the kernel's own page tables (the lowmem direct map,
 * arch/i386/mm/init.c), address spaces (mm_struct, pgd_alloc in arch/i386/mm/pgtable.c,
 * the text and libc every process maps), user mappings as exec, fork and page faults make
 * them, page-table stores (set_pte / pte_clear), clear_page, and the teardown at exit
 * (exit_mmap in mm/mmap.c, mmput, mmdrop and pgd_free).
 *
 * Set-up (no CPU given) writes guest memory directly, before the measured run; at run
 * time every store to a page-table frame goes through the platform, where it may trap.
 */
import type { Costs } from '../../../shared/costs.js';
import type { GuestMemory } from '../../machine/memory.js';
import { PAGE_SHIFT, PT_ENTRIES, PTE_A, PTE_D, PTE_G, PTE_P, PTE_RW, PTE_US, pdIndex, ptIndex, X64_ENTRIES, x64Index } from '../../machine/paging.js';
import type { GuestCpu } from '../cpu.js';
import { KERNEL_PDE_FIRST, KERNEL_VPN_BASE, KTEXT, USER } from '../layout.js';
import { Mm } from '../task.js';
import type { PageAllocator } from './page-alloc.js';
import type { MmSwitch } from './mmu-context.js';
import type { X64PageTables, TableStore } from './pgtable64.js';

/** How an x86-64 guest's tables are kept (pgtable64.ts), and whether it isolates page tables. */
export interface X64Options {
  readonly tables: X64PageTables;
  readonly pti: boolean;
  /** mm_init's ctx_id for a new address space (tlb-state.ts). */
  readonly initContext: (mm: Mm) => void;
}

export class MemoryManager implements TableStore {
  /** Every address space, by id. */
  readonly mms: Mm[] = [];
  /** PDEs of the kernel half (the shared, global kernel page tables), copied into every new page directory. */
  private kernelPdes = new Uint32Array(0);
  /** swapper_pg_dir's frame (init_mm's page directory), whose kernel half every directory copies. */
  private swapperPd = -1;
  /** Frames shared by every process: the benchmark text and libc. */
  private readonly textFrame: number;
  private readonly libcFrame: number;
  /** The CPUs the checker looks at when asked for all of them (this replica's). */
  localCpus: readonly GuestCpu[] = [];

  /** Entries of a page table (1024 on i386, 512 on x86-64). */
  private readonly tableEntries: number;

  constructor(
    readonly mem: GuestMemory,
    readonly pages: PageAllocator,
    private readonly c: Costs,
    private readonly cr: MmSwitch,
    /** Run the translation checker at every page-table teardown and page-directory free. */
    private readonly checking: boolean,
    /** An x86-64 guest's tables, or null for the i386 guest. */
    private readonly x64: X64Options | null = null,
  ) {
    this.tableEntries = x64 === null ? PT_ENTRIES : X64_ENTRIES;
    if (x64 !== null) x64.tables.buildKernel(pages.lowmemFrames);
    else this.buildKernelPageTables();
    // Page-cache pages of the binary and libc, mapped into user space: GFP_HIGHUSER.
    this.textFrame = pages.allocHighUser();
    this.libcFrame = pages.allocHighUser();
  }

  // --- boot and set-up ------------------------------------------------------------

  /** The lowmem direct map: every lowmem frame at 0xC0000000 + frame * 4 KiB, global, supervisor (highmem is not mapped: kernel_physical_mapping_init). */
  private buildKernelPageTables(): void {
    const mem = this.mem;
    const low = this.pages.lowmemFrames;
    const nPts = Math.ceil(low / PT_ENTRIES);
    const pts: number[] = [];
    for (let i = 0; i < nPts; i++) pts.push(this.pages.allocPageTable());
    // A table at a time (GuestMemory.writeTable), as the kernel's loop leaves them.
    const words = new Uint32Array(PT_ENTRIES);
    for (let t = 0; t < nPts; t++) {
      const first = t * PT_ENTRIES;
      words.fill(0);
      for (let i = 0; i < PT_ENTRIES && first + i < low; i++) words[i] = ((first + i) << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A | PTE_D | PTE_G;
      mem.writeTable(pts[t]!, words);
    }
    this.kernelPdes = Uint32Array.from(pts, (pt) => (pt << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_A);
  }

  /** init_mm: swapper_pg_dir, the kernel-only page directory the CPUs boot on. */
  bootInitMm(): Mm {
    if (this.x64 !== null) {
      const mm64 = this.addMm(new Mm(this.pages.allocPageTable()));
      this.x64.tables.initPgdDirect(mm64);
      this.x64.initContext(mm64);
      mm64.users = 1;
      return mm64;
    }
    const mm = this.addMm(new Mm(this.pages.allocPageTable()));
    for (let i = 0; i < this.kernelPdes.length; i++) this.mem.writeEntry(mm.pdFrame, KERNEL_PDE_FIRST + i, this.kernelPdes[i]!);
    this.swapperPd = mm.pdFrame;
    mm.users = 1;
    return mm;
  }

  /**
   * A user page (GFP_HIGHUSER: highmem first, then lowmem) from CPU `cpuId`'s list; at run
   * time cleared by the kernel (clear_user_highpage). The kmap_atomic a highmem page needs
   * for the clear is not modelled (only guests above 896 MiB have highmem pages).
   */
  allocPage(cpu: GuestCpu | null = null, cpuId = cpu?.id ?? 0): number {
    const f = this.pages.allocHighUser(cpuId);
    if (cpu !== null) this.clearPage(cpu, f);
    return f;
  }

  /** A lowmem frame for a kernel object (GFP_KERNEL: kernel stack, task_struct, slab page), returned as its kernel virtual page. */
  kernelPage(cpu: GuestCpu | null = null, cpuId = cpu?.id ?? 0): number {
    const f = this.pages.allocFrame(cpuId);
    if (cpu !== null) this.clearPage(cpu, f);
    return KERNEL_VPN_BASE + f;
  }

  /** A kernel object's page (kernelPage's) freed. */
  freeKernelPage(vpn: number, cpuId: number): void {
    this.pages.freeFrame(vpn - KERNEL_VPN_BASE, cpuId);
  }

  /** A lowmem page for a page table (pte_alloc_one / pgd_alloc: GFP_KERNEL, no CONFIG_HIGHPTE), zeroed. */
  pageTablePage(cpu: GuestCpu | null): number {
    if (cpu === null) return this.pages.allocPageTable();
    const f = this.pages.allocFrame(cpu.id);
    this.mem.holdPageTable(f);
    this.clearPage(cpu, f);
    return f;
  }

  store(cpu: GuestCpu | null, frame: number, index: number, value: number): void {
    if (cpu === null) this.mem.writeEntry(frame, index, value);
    else this.setPte(cpu, frame, index, value);
  }

  /**
   * clear_page: 1024 stores of zero. While the frame is write-protected (it still has a
   * shadow page) each store traps; once the fork detector has zapped the shadow, the
   * rest are plain stores.
   */
  clearPage(cpu: GuestCpu, f: number): void {
    cpu.work(this.c.clearPage);
    if (!this.mem.hasContents(f)) return; // never a page table: nothing the model tracks
    for (let i = 0; i < this.tableEntries; i++) {
      if (!cpu.mmu.isWriteProtected(cpu.vcpu, f)) {
        this.mem.zeroFrom(f, i);
        break;
      }
      this.setPte(cpu, f, i, 0);
    }
    this.checkpoint(cpu);
  }

  /** pgd_alloc: a page directory whose kernel half points at the shared kernel page tables; text and libc mapped. */
  createMm(cpu: GuestCpu | null = null): Mm {
    if (this.x64 !== null) return this.createMm64(cpu, this.x64);
    const pd = this.pageTablePage(cpu);
    this.cloneKernelHalf(cpu, pd);
    const mm = this.addMm(new Mm(pd));
    // Text and libc: the same frames in every process, read-only.
    this.mapUser(mm, USER.text, this.textFrame, false, cpu);
    this.mapUser(mm, USER.libc, this.libcFrame, false, cpu);
    return mm;
  }

  /**
   * pgd_ctor's clone_pgd_range: swapper_pg_dir's kernel half copied into the new directory
   * `pd`, a store per entry. Where none of them traps (the frame is not write-protected),
   * each costs the same plain store, and the words are written at once. The model's own
   * memory: the kernel half's words are swapper_pg_dir's, held once (GuestMemory.share).
   */
  private cloneKernelHalf(cpu: GuestCpu | null, pd: number): void {
    const n = this.kernelPdes.length;
    if (cpu !== null && this.swapperPd >= 0 && !cpu.mmu.isWriteProtected(cpu.vcpu, pd)) {
      const cycles = cpu.mmu.ptWriteCycles(cpu.vcpu);
      this.mem.writeShared(pd, KERNEL_PDE_FIRST, this.kernelPdes, this.swapperPd, PT_ENTRIES);
      const v = cpu.vcpu;
      for (let i = 0; i < n; i++) v.clock += cycles; // store by store, as the clock adds them
      return;
    }
    for (let i = 0; i < n; i++) this.store(cpu, pd, KERNEL_PDE_FIRST + i, this.kernelPdes[i]!);
    if (this.swapperPd >= 0) this.mem.share(pd, this.swapperPd, KERNEL_PDE_FIRST, PT_ENTRIES);
  }

  /** An x86-64 pgd_alloc (with PTI the pair of PML4s) and mm_init's context. */
  private createMm64(cpu: GuestCpu | null, x64: X64Options): Mm {
    const mm = this.addMm(new Mm(this.pageTablePage(cpu)));
    if (x64.pti) mm.userPgd = this.pageTablePage(cpu);
    x64.tables.initPgd(this, cpu, mm);
    x64.initContext(mm);
    this.mapUser(mm, USER.text, this.textFrame, false, cpu);
    this.mapUser(mm, USER.libc, this.libcFrame, false, cpu);
    return mm;
  }

  // --- copies of what another replica's vCPU built (fork records) ---------------------

  /**
   * Address space `id` was made by a fork on a vCPU another replica runs (pgd_alloc):
   * this replica's copy of guest memory takes its directory as that fork left it (the
   * kernel half), without running it.
   */
  adoptMm(id: number, pd: number): Mm {
    if (id !== this.mms.length) throw new Error(`address space ${id} forked where ${this.mms.length} was next: forks on two vCPUs within one quantum`);
    const mem = this.mem;
    mem.holdPageTable(pd);
    mem.zeroFrom(pd, 0);
    if (this.swapperPd >= 0) mem.writeShared(pd, KERNEL_PDE_FIRST, this.kernelPdes, this.swapperPd, PT_ENTRIES);
    else for (let i = 0; i < this.kernelPdes.length; i++) mem.writeEntry(pd, KERNEL_PDE_FIRST + i, this.kernelPdes[i]!);
    return this.addMm(new Mm(pd));
  }

  /** The copy of a user page table the fork allocated (pte_alloc_one, cleared) and entered in the directory at `pdi`. */
  adoptPageTable(mm: Mm, pt: number, pdi: number, pde: number): void {
    const mem = this.mem;
    mem.holdPageTable(pt);
    mem.zeroFrom(pt, 0);
    mem.writeEntry(mm.pdFrame, pdi, pde);
    mm.userPtFrames.push(pt);
    mm.userPtPdis.push(pdi);
  }

  /** The copy of a user mapping the fork made: `pte` at `vpn`. */
  adoptMapping(mm: Mm, vpn: number, pte: number): void {
    const pt = this.mem.readEntry(mm.pdFrame, pdIndex(vpn)) >>> PAGE_SHIFT;
    this.mem.writeEntry(pt, ptIndex(vpn), pte);
    mm.userVpns.push(vpn);
  }

  /** A page the fork allocated and cleared (a private user page, a kernel stack): its copy reads as zeros too. */
  adoptCleared(f: number): void {
    this.mem.zeroFrom(f, 0);
  }

  private addMm(mm: Mm): Mm {
    mm.id = this.mms.length;
    this.mms.push(mm);
    return mm;
  }

  /** Map a user page (as exec/fork or a page fault would), allocating the page table if needed. */
  mapUser(mm: Mm, vpn: number, frame: number, writable: boolean, cpu: GuestCpu | null = null): void {
    if (this.x64 !== null) {
      const pt = this.x64.tables.leafFor(this, cpu, mm, vpn);
      this.store(cpu, pt, x64Index(vpn, 1), (frame << PAGE_SHIFT) | PTE_P | PTE_US | PTE_A | (writable ? PTE_RW | PTE_D : 0));
      mm.userVpns.push(vpn);
      if (writable) mm.privateFrames.push(frame);
      return;
    }
    const mem = this.mem;
    const pdi = pdIndex(vpn);
    let pde = mem.readEntry(mm.pdFrame, pdi);
    if ((pde & PTE_P) === 0) {
      const pt = this.pageTablePage(cpu);
      pde = (pt << PAGE_SHIFT) | PTE_P | PTE_RW | PTE_US | PTE_A;
      this.store(cpu, mm.pdFrame, pdi, pde);
      mm.userPtFrames.push(pt);
      mm.userPtPdis.push(pdi);
    }
    const flags = PTE_P | PTE_US | PTE_A | (writable ? PTE_RW | PTE_D : 0);
    this.store(cpu, pde >>> PAGE_SHIFT, ptIndex(vpn), (frame << PAGE_SHIFT) | flags);
    mm.userVpns.push(vpn);
    if (writable) mm.privateFrames.push(frame);
  }

  /**
   * munmap of private anonymous pages `vpns` of `mm` (on `cpu`, whose mm it is):
   * zap_pte_range clears their PTEs, the TLB is flushed (flush_tlb_mm_range: more than
   * tlb_single_page_flush_ceiling, 33 pages, flushes the whole mm), the pages are freed. The
   * page tables stay (free_pgtables frees only tables no mapping uses; the workloads unmap
   * part of a table's range).
   */
  unmapUser(cpu: GuestCpu, mm: Mm, vpns: readonly number[]): void {
    cpu.touch(KTEXT.fault);
    const mem = this.mem;
    const freed: number[] = [];
    for (const vpn of vpns) {
      const pt = this.x64 !== null ? this.x64.tables.leafOf(mm, vpn) : mem.readEntry(mm.pdFrame, pdIndex(vpn)) >>> PAGE_SHIFT;
      const index = this.x64 !== null ? x64Index(vpn, 1) : ptIndex(vpn);
      const pte = mem.readEntry(pt, index);
      if ((pte & PTE_P) === 0) continue;
      this.setPte(cpu, pt, index, 0);
      freed.push(pte >>> PAGE_SHIFT);
    }
    if (vpns.length > 33) this.cr.flushTlbLocal(cpu);
    else for (const vpn of vpns) cpu.mmu.invlpg(cpu.vcpu, vpn);
    const gone = new Set(vpns);
    mm.userVpns = mm.userVpns.filter((v) => !gone.has(v));
    const frames = new Set(freed);
    mm.privateFrames = mm.privateFrames.filter((f) => !frames.has(f));
    for (const f of freed) this.pages.freeFrame(f, cpu.id);
  }

  /** set_pte / pte_clear: a store to a page-table entry, seen by the platform (it may trap). */
  setPte(cpu: GuestCpu, frame: number, index: number, value: number): void {
    this.mem.writeEntry(frame, index, value);
    cpu.mmu.ptWrite(cpu.vcpu, frame, index);
  }

  /** The translation checker, when enabled: count stale shadow translations of `cpu` (or of every CPU this replica runs) now. */
  checkpoint(cpu?: GuestCpu): void {
    if (!this.checking) return;
    if (cpu === undefined) {
      for (const w of this.localCpus) this.checkpoint(w);
      return;
    }
    const a = cpu.audit;
    a.checks++;
    const n = cpu.mmu.staleTranslations(cpu.vcpu);
    if (n > a.staleTranslations) a.staleTranslations = n;
  }

  // --- teardown ------------------------------------------------------------------------

  /**
   * The last user of `mm` was a task of `cpu` (that exited in the quantum just over, with
   * several vCPUs): exit_mmap now, and free the directory if the CPU no longer runs on it.
   */
  lastMmput(cpu: GuestCpu, mm: Mm): void {
    mm.exitCpu = cpu.id;
    this.exitMmap(cpu, mm);
    if (cpu.activeMm !== mm) this.mmdrop(cpu, mm);
  }

  /**
   * exit_mmap: clear the user PTEs (zap_pte_range), flush the TLB (tlb_finish_mmu), clear
   * the user PDEs (free_pgtables) and free the page tables and private pages. These are
   * stores to page-table frames: they trap where the frames are shadowed. The page
   * directory itself is freed when the CPU stops using it (mmdrop after the switch).
   */
  exitMmap(cpu: GuestCpu, mm: Mm): void {
    if (this.x64 !== null) {
      this.exitMmap64(cpu, mm, this.x64);
      return;
    }
    const mem = this.mem;
    cpu.touch(KTEXT.exitB);
    for (const vpn of mm.userVpns) {
      const pt = mem.readEntry(mm.pdFrame, pdIndex(vpn)) >>> PAGE_SHIFT;
      this.setPte(cpu, pt, ptIndex(vpn), 0);
    }
    this.cr.flushTlbLocal(cpu);
    for (let i = 0; i < mm.userPtFrames.length; i++) {
      this.setPte(cpu, mm.pdFrame, mm.userPtPdis[i]!, 0);
      this.pages.freeFrame(mm.userPtFrames[i]!, cpu.id);
    }
    for (const f of mm.privateFrames) this.pages.freeFrame(f, cpu.id);
    mm.userPtFrames.length = 0;
    mm.userPtPdis.length = 0;
    mm.userVpns.length = 0;
    mm.privateFrames.length = 0;
    this.checkpoint(cpu);
  }

  /** exit_mmap of an x86-64 guest: the PTEs cleared, the TLB flushed, the tables freed (pgtable64.ts). */
  private exitMmap64(cpu: GuestCpu, mm: Mm, x64: X64Options): void {
    cpu.touch(KTEXT.exitB);
    for (const vpn of mm.userVpns) {
      const pt = x64.tables.leafOf(mm, vpn);
      if (pt >= 0) this.setPte(cpu, pt, x64Index(vpn, 1), 0);
    }
    this.cr.flushTlbLocal(cpu);
    x64.tables.freeTables(this, cpu, mm);
    for (const f of mm.privateFrames) this.pages.freeFrame(f, cpu.id);
    mm.userVpns.length = 0;
    mm.privateFrames.length = 0;
    this.checkpoint(cpu);
  }

  /**
   * The last user of `mm` exited on a vCPU another replica runs, which tears the address
   * space down there (lastMmput). This replica's copy of guest memory takes what that
   * teardown stores, without running it: the user page tables cleared whole (they hold
   * only the mm's user PTEs) and the user PDEs cleared; the mm's lists are let go. So the
   * copy reads as the owner's does, and holds no words for the dead address space.
   */
  forgetRemote(mm: Mm): void {
    const mem = this.mem;
    for (let i = 0; i < mm.userPtFrames.length; i++) {
      mem.zeroFrom(mm.userPtFrames[i]!, 0);
      mem.writeEntry(mm.pdFrame, mm.userPtPdis[i]!, 0);
    }
    mem.releaseZeroParts(mm.pdFrame);
    mm.userPtFrames.length = 0;
    mm.userPtPdis.length = 0;
    mm.userVpns.length = 0;
    mm.privateFrames.length = 0;
  }

  /** The last reference to a dead mm is gone: pgd_free. */
  mmdrop(cpu: GuestCpu, mm: Mm): void {
    if (mm.pdFrame < 0) return;
    cpu.mmu.pgdFree(cpu.vcpu, mm.pdFrame);
    this.pages.freeFrame(mm.pdFrame, cpu.id);
    mm.pdFrame = -1;
    if (mm.userPgd >= 0) {
      this.pages.freeFrame(mm.userPgd, cpu.id);
      mm.userPgd = -1;
    }
    this.checkpoint(cpu);
  }
}
