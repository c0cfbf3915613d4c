/**
 * The simulator's counters under the names KVM's debugfs gives them (what `kvm_stat`
 * reads from /sys/kernel/debug/kvm/), one table for every view that shows them: the
 * live view of a long run (`run --live`) and the reports.
 *
 * Linux 2.6.20's table is `debugfs_entries[]` in drivers/kvm/kvm_main.c (pf_fixed,
 * pf_guest, tlb_flush, invlpg, exits, io_exits, mmio_exits, signal_exits, irq_window,
 * halt_exits, request_irq, irq_exits); the shadow-MMU counters (mmu_cache_miss,
 * mmu_pte_write, mmu_shadow_zapped, mmu_recycled) joined it in 2.6.21/22 (struct
 * kvm_vm_stat). Only the names this model counts are listed; each says what it is made of.
 */
import { EXIT_REASON, EXIT_REASON_NAMES, EXIT_REASON_SLOTS, type ExitReasonName } from './exits.js';
import type { MmuStats, RunResult, TlbStats } from './stats.js';

/** What the counters are read from: exits by reason, the TLB's and the shadow MMU's groups (summed over vCPUs). */
export interface KvmStatSource {
  exit(reason: ExitReasonName): number;
  readonly exits: number;
  readonly tlb: TlbStats;
  readonly mmu: MmuStats;
}

export interface KvmStatEntry {
  /** The debugfs name. */
  readonly name: string;
  /** What it counts here. */
  readonly doc: string;
  readonly of: (s: KvmStatSource) => number;
}

export const KVM_STAT: readonly KvmStatEntry[] = [
  { name: 'exits', doc: 'VM exits, every reason', of: (s) => s.exits },
  { name: 'halt_exits', doc: 'exits on HLT', of: (s) => s.exit('HLT') },
  { name: 'io_exits', doc: 'exits on IN/OUT (IO_INSTRUCTION)', of: (s) => s.exit('IO_INSTRUCTION') },
  { name: 'irq_exits', doc: 'exits on an external interrupt', of: (s) => s.exit('EXTERNAL_INTERRUPT') },
  { name: 'irq_window', doc: 'exits when the guest opens its interrupt window (PENDING_INTERRUPT)', of: (s) => s.exit('PENDING_INTERRUPT') },
  { name: 'invlpg', doc: 'exits on INVLPG', of: (s) => s.exit('INVLPG') },
  { name: 'pf_fixed', doc: 'shadow page faults the MMU fixed (mmu.shadowFaults)', of: (s) => s.mmu.shadowFaults },
  { name: 'tlb_flush', doc: 'TLB flushes, full and non-global (tlb.flushesFull + tlb.flushesNonGlobal)', of: (s) => s.tlb.flushesFull + s.tlb.flushesNonGlobal },
  { name: 'mmu_cache_miss', doc: 'shadow pages made (mmu.pagesCreated)', of: (s) => s.mmu.pagesCreated },
  { name: 'mmu_pte_write', doc: 'guest page-table writes emulated (mmu.ptWritesEmulated)', of: (s) => s.mmu.ptWritesEmulated },
  { name: 'mmu_shadow_zapped', doc: 'shadow pages zapped (mmu.pagesZapped)', of: (s) => s.mmu.pagesZapped },
  { name: 'mmu_recycled', doc: 'shadow pages evicted to make room (mmu.pagesEvicted)', of: (s) => s.mmu.pagesEvicted },
];

/** Counter values by name, in KVM_STAT order. */
export type KvmCounters = Record<string, number>;

export function kvmCounters(s: KvmStatSource): KvmCounters {
  const out: KvmCounters = {};
  for (const e of KVM_STAT) out[e.name] = e.of(s);
  return out;
}

/** The counters of a finished run. */
export function kvmCountersOfResult(r: RunResult): KvmCounters {
  return kvmCounters({ exit: (reason) => r.exits.byReason[reason]?.count ?? 0, exits: r.exits.total, tlb: r.tlb, mmu: r.mmu });
}

/** The counters of vCPUs while they run: exit counts indexed by reason number, and each vCPU's groups. */
export function kvmCountersOfVcpus(vcpus: readonly { exitCount: ArrayLike<number>; tlb: TlbStats; mmu: MmuStats }[]): KvmCounters {
  const byReason = new Float64Array(EXIT_REASON_SLOTS);
  const tlb = { flushesFull: 0, flushesNonGlobal: 0, misses: 0 };
  const mmu = { shadowFaults: 0, pagesCreated: 0, pagesZapped: 0, pagesEvicted: 0, ptWritesEmulated: 0, checks: 0, staleTranslations: 0 };
  let exits = 0;
  for (const v of vcpus) {
    for (const name of EXIT_REASON_NAMES) {
      const n = v.exitCount[EXIT_REASON[name]] ?? 0;
      byReason[EXIT_REASON[name]]! += n;
      exits += n;
    }
    for (const k of Object.keys(tlb) as (keyof TlbStats)[]) tlb[k] += v.tlb[k];
    for (const k of Object.keys(mmu) as (keyof MmuStats)[]) mmu[k] += v.mmu[k];
  }
  return kvmCounters({ exit: (reason) => byReason[EXIT_REASON[reason]]!, exits, tlb, mmu });
}

/** Several replicas' counters summed. */
export function sumCounters(parts: readonly KvmCounters[]): KvmCounters {
  const out: KvmCounters = {};
  for (const e of KVM_STAT) out[e.name] = parts.reduce((a, p) => a + (p[e.name] ?? 0), 0);
  return out;
}
