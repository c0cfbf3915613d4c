/**
 * Cost profiles: every per-event cost the simulation charges, as data.
 *
 * A reported time is always (counted events) x (one of these costs). Nothing is
 * charged from a constant hidden in code. Each entry carries its source, or says
 * that it is a first estimate to be fitted by calibration against the two
 * published rows (see experiments/ and docs/fidelity.md).
 *
 * Units: cycles of the host/guest CPU unless the name says otherwise.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CostEntry {
  readonly value: number;
  /** Where the number comes from, or "first estimate" with the reasoning. */
  readonly note: string;
  /** The value with the host's speculation mitigations off (config `mitigations` false), where a source gives both. */
  readonly off?: { readonly value: number; readonly note: string };
}

/** What the host CPU offers a hypervisor and a guest (a mode or option that needs a feature is refused without it). */
export interface HardwareFeatures {
  /** Two-dimensional paging: Intel EPT or AMD NPT. */
  readonly ept: boolean;
  /** Tagged TLB entries per guest: Intel VPID or AMD ASID. */
  readonly vpid: boolean;
  /** Process-context identifiers (CR4.PCIDE) a guest may use. */
  readonly pcid: boolean;
}

/** Core 2 of 2007: none of them. */
export const NO_FEATURES: HardwareFeatures = { ept: false, vpid: false, pcid: false };

/** The names of all costs; a profile must define each of them. */
export const COST_NAMES = [
  // --- CPU and TLB -------------------------------------------------------
  'clockHz',
  'tlbEntries',
  'tlbWays',
  'tlbWalk',
  'movCr3',
  'movCr4',
  'invlpg',
  'portIoNative',
  'stlbEntries',
  'stlbWays',
  'stlbHit',
  'walkRef',
  'movCr3NoFlush',
  'wrmsr',
  // --- guest kernel paths (native cycles; slowed down under qemu) ----------
  'syscallEntryExit',
  'pipeWrite',
  'pipeRead',
  'unixSend',
  'unixRecv',
  'wakeup',
  'schedule',
  'switchMm',
  'irqEntryExit',
  'timerTick',
  'ptWrite',
  'taskExit',
  'waitReap',
  'fork',
  'clearPage',
  'blockIo',
  'diskServiceNs',
  'pageFault',
  'pvCr3Lookup',
  'movCr3Target',
  // --- user code of the workloads ------------------------------------------
  'userLoop',
  'userMessage',
  // --- VMX / KVM (host side) -------------------------------------------------
  'vmexitRoundTrip',
  'kvmExitPath',
  'crAccessHandler',
  'shadowFaultHandler',
  'shadowPageAlloc',
  'shadowPageZap',
  'hashProbe',
  'ptWriteEmulate',
  'mmioEmulate',
  'cacheLineTransfer',
  'ioInstructionHandler',
  'userspaceExit',
  'hltHandler',
  'invlpgHandler',
  'interruptInjection',
  'pvCacheFill',
  'pvHypercall',
  // --- KVM of today (arch/x86/kvm/) -------------------------------------------
  'rootSwitch',
  'rootLoad',
  'syncRoots',
  'syncPage',
  'vpidFlush',
  'pfInject',
  'eptViolationHandler',
  'hostPageAlloc',
  'msrWriteHandler',
  'pvmDirectSwitch',
  // --- QEMU dynamic translation ------------------------------------------
  'qemuSlowdown',
  'qemuSoftTlbEntries',
  'qemuSoftTlbFlush',
  'qemuSoftTlbFill',
  'qemuPortIo',
  'qemuTimerEvent',
  'qemuAlarm',
] as const;

export type CostName = (typeof COST_NAMES)[number];

export interface CostProfile {
  readonly name: string;
  readonly description: string;
  readonly features: HardwareFeatures;
  readonly costs: { readonly [K in CostName]: CostEntry };
}

/** Plain numbers for the hot path: `costs.tlbWalk` rather than an object lookup chain. */
export type Costs = { readonly [K in CostName]: number };

/** The profile's costs as plain numbers; with `mitigations` false, the values sources give for a host without them where there are such. */
export function costValues(profile: CostProfile, mitigations = true): Costs {
  const out = {} as Record<CostName, number>;
  for (const name of COST_NAMES) {
    const e = profile.costs[name];
    out[name] = !mitigations && e.off ? e.off.value : e.value;
  }
  return out;
}

/** Does the profile give costs for a host with its mitigations off? */
export function hasMitigationSwitch(profile: CostProfile): boolean {
  return COST_NAMES.some((n) => profile.costs[n].off !== undefined);
}

/**
 * A cost no datasheet or published figure gives: an estimate with the range it may take
 * (docs/fidelity.md). The free costs of a calibration are refitted within their spec's
 * bounds; the others stay at the estimate.
 */
const est = (lo: number, hi: number): string => `estimate within [${lo}, ${hi}]`;

/**
 * The 2007 host of the study: an Intel Core 2 (Merom/Conroe) with VT-x, no EPT, no VPID,
 * running KVM of January 2007 with QEMU 0.8/0.9 as its user-space device model, and a
 * 32-bit Linux 2.6.20 guest.
 */
export const CORE2_2007: CostProfile = {
  name: 'core2-2007',
  description: 'Intel Core 2 host of January 2007, KVM-13 era, 32-bit 2.6.20 guest (first estimates, not yet calibrated)',
  features: NO_FEATURES,
  costs: {
    clockHz: { value: 2.13e9, note: 'assumed Core 2 Duo at 2.13 GHz (E6400 class); the study names a Core 2 host without its clock' },
    tlbEntries: { value: 256, note: 'Core 2 L1 DTLB: 256 entries for 4 KiB pages (Intel 64 and IA-32 Optimization Reference Manual, 2007)' },
    tlbWays: { value: 4, note: 'Core 2 L1 DTLB is 4-way set associative (same source)' },
    tlbWalk: { value: 30, note: `hardware page walk with the page-table lines in L1/L2; ${est(15, 300)}` },
    movCr3: { value: 120, note: `mov to cr3 (serialising, drops non-global TLB entries) on Core 2; ${est(80, 250)}` },
    movCr4: { value: 150, note: `mov to cr4 changing PGE (serialising; the whole TLB, global entries included, is flushed) on Core 2; ${est(100, 300)}` },
    invlpg: { value: 100, note: `invlpg of one entry; ${est(50, 250)}` },
    portIoNative: { value: 1000, note: 'legacy ISA port access through the ICH LPC bridge, about 0.5 us: the reason port 0x80 is used as a delay' },
    stlbEntries: { value: 0, note: 'no second TLB level modelled on Core 2: the 256-entry DTLB above stands for the L1 DTLB and its backing' },
    stlbWays: { value: 1, note: 'no second TLB level (stlbEntries 0)' },
    stlbHit: { value: 0, note: 'no second TLB level (stlbEntries 0)' },
    walkRef: { value: 10, note: `a paging-structure reference beyond the first, with the line in L1/L2 (Core 2 L1 3, L2 14 cycles), charged only for 4-level guests; ${est(4, 40)}` },
    movCr3NoFlush: { value: 120, note: 'Core 2 has no PCID: never charged (a guest on this profile does not enable PCID)' },
    wrmsr: { value: 100, note: `a write to the local APIC natively (an xAPIC register store, or an x2APIC WRMSR: the EOI, the TSC deadline, the ICR); ${est(50, 300)}` },

    syscallEntryExit: { value: 200, note: `int 0x80 / sysenter entry + return with register save on Core 2; ${est(100, 400)}` },
    pipeWrite: { value: 550, note: `fget, pipe_write: mutex, copy of a small message into the last pipe buffer, wake-up check; ${est(300, 1500)}` },
    pipeRead: { value: 500, note: `pipe_read of a small message: mutex, copy out, buffer release; ${est(300, 1500)}` },
    unixSend: { value: 2200, note: `unix_stream_sendmsg: sock_alloc_send_skb, memcpy_fromiovec, queue on the peer, sk_data_ready; ${est(1000, 12000)}` },
    unixRecv: { value: 1800, note: `unix_stream_recvmsg: dequeue skb, copy, kfree_skb, sock_wfree; ${est(800, 4000)}` },
    wakeup: { value: 450, note: `try_to_wake_up + enqueue_task + recalc_task_prio (O(1) scheduler); ${est(200, 1000)}` },
    schedule: { value: 1100, note: `schedule() + context_switch + __switch_to, without the cr3 load; ${est(400, 4000)}` },
    switchMm: { value: 80, note: `switch_mm bookkeeping (cpu_vm_mask, load LDT check) around the cr3 load; ${est(40, 200)}` },
    irqEntryExit: { value: 400, note: `common_interrupt, do_IRQ, handle_level_irq, irq_exit; ${est(200, 1000)}` },
    timerTick: { value: 1500, note: `timer_interrupt: do_timer, update_process_times, scheduler_tick (without the PIT read); ${est(800, 4000)}` },
    ptWrite: { value: 20, note: 'one store to a page-table entry (set_pte / pte_clear) when it does not trap' },
    taskExit: { value: 25000, note: `do_exit without the page-table teardown: files, signals, exit_notify; ${est(10000, 60000)}` },
    fork: { value: 40000, note: `do_fork of a small process without its page-table writes: copy_process, dup_mm bookkeeping, wake_up_new_task; ${est(20000, 100000)}` },
    blockIo: { value: 6000, note: `a block read through the page cache and the IDE driver: generic_make_request, the request queue, ide_do_request, end_that_request; ${est(3000, 15000)}` },
    diskServiceNs: { value: 50000, note: `time from starting a DMA read to its completion interrupt: QEMU reading the block from the host page cache (ns, not cycles); ${est(20000, 200000)}` },
    clearPage: { value: 1000, note: 'clear_page of 4 KiB with rep stosl / movnti, about 1,000 cycles on Core 2 with the page in cache' },
    waitReap: { value: 3000, note: `sys_wait4 reaping one zombie (release_task); ${est(1000, 8000)}` },
    pageFault: { value: 1500, note: `a guest page fault on a not-present anonymous page: exception entry, do_page_fault, find_vma, handle_mm_fault and do_anonymous_page without its clear_page and PTE store; ${est(700, 4000)}` },
    movCr3Target: { value: 120, note: `a guest mov to cr3 in VMX non-root that matches a CR3-target value: no exit, but the CPU compares the targets and drops non-global TLB entries; no published latency, ${est(80, 250)}` },
    pvCr3Lookup: { value: 40, note: 'guest write_cr3 paravirt path: linear search of at most KVM_CR3_CACHE_SIZE entries in para_state' },

    userLoop: { value: 100, note: `lat_ctx/pipe user loop between two system calls; ${est(50, 300)}` },
    userMessage: { value: 150, note: `hackbench user code per message (loop, libc write/read wrapper); ${est(50, 400)}` },

    vmexitRoundTrip: { value: 1600, note: 'VT-x VM exit + VM entry hardware latency on Merom, ~1,500-1,600 cycles (Intel and VMware published round-trip figures for 2006-2007 parts)' },
    kvmExitPath: { value: 3000, note: `KVM 2007 common exit path: VMCS reads, host segment/MSR reload, lazy FPU, irq window checks; ${est(800, 15000)}` },
    crAccessHandler: { value: 1200, note: `handle_cr: kvm_set_cr3 -> mmu new_cr3: free/alloc roots, hash lookup, the VMCS writes of the new cr3 and the emulated instruction; ${est(500, 8000)}` },
    shadowFaultHandler: { value: 2500, note: `paging32_page_fault: guest walk, fetch shadow PT, set spte, set guest A/D bits; ${est(300, 20000)}` },
    shadowPageAlloc: { value: 900, note: `kvm_mmu_alloc_page: take a free shadow page, clear 4 KiB, rmap write-protect the guest frame; ${est(500, 3000)}` },
    shadowPageZap: { value: 400, note: `kvm_mmu_zap_page: unlink parents and children, free; ${est(200, 1500)}` },
    hashProbe: { value: 20, note: `one step of an mmu_page_hash chain walk (hlist_for_each_entry comparing gfn and role): a pointer chase to a struct kvm_mmu_page, mostly in L1/L2; ${est(5, 200)}` },
    ptWriteEmulate: { value: 3500, note: `write to a write-protected guest page table: x86 emulator decode + kvm_mmu_pte_write; ${est(1500, 8000)}` },
    mmioEmulate: { value: 3500, note: `an access to a device page QEMU emulates (the local APIC in 2007: no in-kernel APIC, an I/O shadow pte): the #PF exit's kvm_mmu_page_fault finding the I/O pte, emulate_instruction, EMULATE_DO_MMIO and KVM_EXIT_MMIO (drivers/kvm/vmx.c handle_exception); the return to QEMU is userspaceExit; ${est(1500, 8000)}` },
    cacheLineTransfer: { value: 60, note: `a cache line another CPU wrote, read here (a lock, a queue head, a task's state): Core 2's shared-L2 hit is 11-14 cycles (X-bit labs, 2007, Kentsfield), a lower bound for a line the other core holds modified; no Core 2 measurement of that was found; ${est(14, 300)}` },
    ioInstructionHandler: { value: 500, note: `handle_io: decode exit qualification, set up kvm_run for user space; ${est(200, 1500)}` },
    userspaceExit: { value: 9000, note: `return from KVM_RUN to QEMU, device dispatch, ioctl back in (2007 PIO path: PIC and PIT in user space); ${est(2000, 40000)}` },
    hltHandler: { value: 400, note: `handle_halt: return to user space to wait; ${est(200, 1500)}` },
    invlpgHandler: { value: 500, note: `handle_invlpg / paging_inval_page; ${est(200, 1500)}` },
    interruptInjection: { value: 400, note: `kvm_do_inject_irq: read PIC vector, write VM-entry interruption info; ${est(200, 1500)}` },
    pvHypercall: { value: 600, note: `VMCALL handler of the pgd-free hypercall (the fix for pinned roots): find and drop the cr3-cache entries of a freed page directory; ${est(300, 2000)}` },
    pvCacheFill: { value: 400, note: `host fill of a para_state entry + CR3-target VMCS writes + unpin of the evicted root; ${est(200, 1500)}` },
    rootSwitch: { value: 300, note: `KVM since 2018 (not on this host's KVM): fast_pgd_switch's rotation of prev_roots and the VMCS write of the cached root; ${est(100, 1500)}` },
    rootLoad: { value: 800, note: `KVM since 2018: kvm_mmu_load after a missed root (hash lookup, root_count, mmu_alloc_shadow_roots, the VMCS write); ${est(300, 3000)}` },
    syncRoots: { value: 300, note: `KVM since 2018: kvm_mmu_sync_roots' walk of the unsync_children bitmaps from the root; ${est(100, 1500)}` },
    syncPage: { value: 2000, note: `KVM since 2018: kvm_sync_page of one unsync leaf table (re-read the guest PTEs, write-protect the gfn again); ${est(500, 8000)}` },
    vpidFlush: { value: 200, note: `INVVPID single-context (no VPID on Core 2: never charged here); ${est(100, 1000)}` },
    pfInject: { value: 800, note: `KVM since 2018: a shadow page fault that finds the guest PTE not present and injects #PF (FNAME(page_fault), kvm_inject_emulated_page_fault); ${est(300, 3000)}` },
    eptViolationHandler: { value: 1500, note: `EPT violation on a host page that exists (kvm_tdp_mmu_map); no EPT on Core 2; ${est(1000, 3000)}` },
    hostPageAlloc: { value: 1500, note: `the host faulting in a guest page the first time it is touched (page allocation and zeroing 4 KiB); ${est(1000, 10000)}` },
    msrWriteHandler: { value: 200, note: `KVM since 2018: the TSC-deadline WRMSR exit's fast path; ${est(100, 600)}` },
    pvmDirectSwitch: { value: 300, note: `PVM's switcher: a guest user/kernel switch without a VM exit (SYSCALL into the host entry, one host CR3 write, SYSRET); ${est(150, 800)}` },

    qemuSlowdown: { value: 30, note: `QEMU 0.8/0.9 dynamic translation of kernel-heavy code (no kqemu), guest cycles x this factor; ${est(8, 80)}` },
    qemuSoftTlbEntries: { value: 256, note: 'QEMU softmmu TLB: CPU_TLB_SIZE 256 entries, direct mapped (cpu-defs.h)' },
    qemuSoftTlbFlush: { value: 4000, note: `tlb_flush: memset of the read/write TLB arrays + tb_jmp_cache on a cr3 write; ${est(2000, 10000)}` },
    qemuSoftTlbFill: { value: 600, note: `tlb_fill -> cpu_x86_handle_mmu_fault: guest page walk in C + tlb_set_page; ${est(200, 6000)}` },
    qemuPortIo: { value: 1500, note: `helper call from translated code to the in-process device model (cpu_outb/cpu_inb); ${est(500, 4000)}` },
    qemuTimerEvent: { value: 1500, note: `a device's callback in QEMU's main loop, in the qemu and the KVM modes alike: for the PIT the two edges of a tick (pit_irq_timer), pic_set_irq, pic_update_irq, cpu_interrupt; ${est(500, 5000)}` },
    qemuAlarm: { value: 3500, note: `one pass of QEMU's main loop woken by a host signal (the 1024 Hz /dev/rtc alarm, or a disk completion): the rtc interrupt's kill_fasync and SIGIO delivery and return (about 1 us on a 2007 Core 2, lmbench lat_sig), select() over QEMU's few descriptors, qemu_run_timers' list checks; ${est(2000, 10000)}` },
  },
};

/**
 * A profile stored as data in the repository's `profiles/` folder (written by
 * `vcpusim calibrate`): named costs replacing those of a base profile.
 */
export interface ProfileFile {
  name: string;
  description: string;
  base: string;
  /** Features replacing the base's (absent: the base's). */
  features?: Partial<HardwareFeatures>;
  costs: Partial<Record<CostName, CostEntry>>;
}

/** Overlay `file` on its base profile. */
export function profileFromFile(file: ProfileFile, bases: Readonly<Record<string, CostProfile>>): CostProfile {
  const base = bases[file.base];
  if (!base) throw new Error(`profile ${file.name}: unknown base profile ${file.base}`);
  for (const k of Object.keys(file.costs)) {
    if (!(COST_NAMES as readonly string[]).includes(k)) throw new Error(`profile ${file.name}: unknown cost ${k}`);
  }
  return { name: file.name, description: file.description, features: { ...base.features, ...file.features }, costs: { ...base.costs, ...file.costs } };
}

/** The repository's `profiles/` folder, found from this module (source or build). */
export function profilesDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'profiles');
    dir = dirname(dir);
  }
  return undefined;
}

function loadProfiles(): Record<string, CostProfile> {
  // No prototype: a profile named "constructor" or "toString" is not found in it.
  const out = Object.assign(Object.create(null) as Record<string, CostProfile>, { [CORE2_2007.name]: CORE2_2007 });
  const dir = profilesDir();
  if (!dir || !existsSync(dir)) return out;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const file = JSON.parse(readFileSync(join(dir, f), 'utf8')) as ProfileFile;
    out[file.name] = profileFromFile(file, out);
  }
  return out;
}

export const PROFILES: Readonly<Record<string, CostProfile>> = loadProfiles();

/** The fitted 2007 profile when it exists, else the first estimates. */
export const DEFAULT_PROFILE = PROFILES['core2-2007-fitted'] ? 'core2-2007-fitted' : CORE2_2007.name;
