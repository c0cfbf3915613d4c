/**
 * KVM's debugfs counters (/sys/kernel/debug/kvm/<name>, what the kvm_stat script reads)
 * derived from a run's statistics, named as KVM names them: the per-vCPU `debugfs_entries`
 * of drivers/kvm/kvm_main.c (2.6.20: pf_fixed, tlb_flush, invlpg, exits, io_exits,
 * signal_exits, halt_exits, irq_exits), and the shadow MMU's VM_STAT names and
 * `hypercalls` that KVM added to the table later (arch/x86/kvm/x86.c: mmu_shadow_zapped,
 * mmu_pte_write, mmu_recycled, mmu_cache_miss). Only counters the model counts are
 * listed: mmio_exits, irq_window and request_irq have no source here (no MMIO devices,
 * no interrupt-window exits), pf_guest is 0 by construction (the workloads map every page).
 */
import type { ExitDetailStats } from './exit-detail.js';
import type { ExitStats, MmuStats } from './stats.js';

/** What one vCPU's, or the VM's, counters are read from. */
export interface CounterSource {
  exits: ExitStats;
  mmu: MmuStats;
  detail: ExitDetailStats;
}

const count = (e: ExitStats, r: keyof ExitStats['byReason']): number => e.byReason[r]?.count ?? 0;

/** debugfs name → the model's figure, in the order kvm_main.c's table lists them (the later names after). */
export const DEBUGFS_COUNTERS: readonly (readonly [string, (s: CounterSource) => number])[] = [
  ['pf_fixed', (s) => s.mmu.shadowFaults],
  ['tlb_flush', (s) => s.detail.tlbFlush],
  ['invlpg', (s) => count(s.exits, 'INVLPG')],
  ['exits', (s) => s.exits.total],
  ['io_exits', (s) => count(s.exits, 'IO_INSTRUCTION')],
  ['signal_exits', (s) => s.detail.signalExits],
  ['halt_exits', (s) => count(s.exits, 'HLT')],
  ['irq_exits', (s) => count(s.exits, 'EXTERNAL_INTERRUPT')],
  ['hypercalls', (s) => count(s.exits, 'VMCALL')],
  ['mmu_shadow_zapped', (s) => s.mmu.pagesZapped],
  ['mmu_pte_write', (s) => s.mmu.ptWritesEmulated],
  ['mmu_recycled', (s) => s.mmu.pagesEvicted],
  ['mmu_cache_miss', (s) => s.mmu.pagesCreated],
];
