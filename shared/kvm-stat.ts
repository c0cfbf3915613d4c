/**
 * The simulator's counters under the names KVM's debugfs gives them (what `kvm_stat`
 * reads from /sys/kernel/debug/kvm/), one table for every view that shows them: the
 * live view of a long run (`run --live`) and the exit reports (`--event kvm_stat`).
 *
 * Linux 2.6.20's table is `debugfs_entries[]` in drivers/kvm/kvm_main.c (pf_fixed,
 * pf_guest, tlb_flush, invlpg, exits, io_exits, mmio_exits, signal_exits, irq_window,
 * halt_exits, request_irq, irq_exits); `hypercalls` and the shadow-MMU counters
 * (mmu_cache_miss, mmu_pte_write, mmu_shadow_zapped, mmu_recycled) joined it in 2.6.21/22
 * (struct kvm_vm_stat). Only names this model counts are listed; each says what it is made
 * of. mmio_exits and request_irq have no source here (no MMIO devices), pf_guest is 0 by
 * construction (the workloads map every page).
 */
import { EXIT_REASON, EXIT_REASON_NAMES, EXIT_REASON_SLOTS, type ExitReasonName } from './exits.js';
import type { MmuStats, RunResult } from './stats.js';

/** What the counters are read from: exits by reason, the shadow MMU's group, and KVM's own tlb_flush and signal_exits counts (the exit detail), summed over vCPUs. */
export interface KvmStatSource {
  exit(reason: ExitReasonName): number;
  readonly exits: number;
  readonly mmu: MmuStats;
  /** kvm_mmu_flush_tlb calls (drivers/kvm/mmu.c: `++vcpu->stat.tlb_flush`). */
  readonly tlbFlush: number;
  /** Exits to user space with a signal pending (kvm_main.c: `++vcpu->stat.signal_exits`). */
  readonly signalExits: number;
}

export interface KvmStatEntry {
  /** The debugfs name. */
  readonly name: string;
  /** What it counts here. */
  readonly doc: string;
  readonly of: (s: KvmStatSource) => number;
}

/** In the order kvm_main.c's table lists them, the later names after. */
export const KVM_STAT: readonly KvmStatEntry[] = [
  { name: 'pf_fixed', doc: 'page faults the MMU fixed: shadow page faults (mmu.shadowFaults), and EPT violations under EPT', of: (s) => s.mmu.shadowFaults + s.exit('EPT_VIOLATION') },
  { name: 'tlb_flush', doc: "KVM's TLB flushes (kvm_mmu_flush_tlb; exitDetail.tlbFlush)", of: (s) => s.tlbFlush },
  { name: 'invlpg', doc: 'exits on INVLPG', of: (s) => s.exit('INVLPG') },
  { name: 'exits', doc: 'VM exits, every reason', of: (s) => s.exits },
  { name: 'io_exits', doc: 'exits on IN/OUT (IO_INSTRUCTION)', of: (s) => s.exit('IO_INSTRUCTION') },
  { name: 'signal_exits', doc: 'exits to user space with a signal pending (exitDetail.signalExits)', of: (s) => s.signalExits },
  { name: 'irq_window', doc: 'exits when the guest opens its interrupt window (PENDING_INTERRUPT)', of: (s) => s.exit('PENDING_INTERRUPT') },
  { name: 'halt_exits', doc: 'exits on HLT', of: (s) => s.exit('HLT') },
  { name: 'irq_exits', doc: 'exits on an external interrupt', of: (s) => s.exit('EXTERNAL_INTERRUPT') },
  { name: 'hypercalls', doc: 'exits on VMCALL', of: (s) => s.exit('VMCALL') },
  { name: 'mmu_shadow_zapped', doc: 'shadow pages zapped (mmu.pagesZapped)', of: (s) => s.mmu.pagesZapped },
  { name: 'mmu_pte_write', doc: 'guest page-table writes emulated (mmu.ptWritesEmulated)', of: (s) => s.mmu.ptWritesEmulated },
  { name: 'mmu_recycled', doc: 'shadow pages evicted to make room (mmu.pagesEvicted)', of: (s) => s.mmu.pagesEvicted },
  { name: 'mmu_cache_miss', doc: 'shadow pages made (mmu.pagesCreated)', of: (s) => s.mmu.pagesCreated },
];

/** Counter values by name, in KVM_STAT order. */
export type KvmCounters = Record<string, number>;

export function kvmCounters(s: KvmStatSource): KvmCounters {
  const out: KvmCounters = {};
  for (const e of KVM_STAT) out[e.name] = e.of(s);
  return out;
}

/** The counters of a finished run, or of one of its vCPUs (a run stored without the exit detail has 0 for tlb_flush and signal_exits). */
export function kvmCountersOfResult(r: RunResult, vcpu: number | null = null): KvmCounters {
  const v = vcpu === null ? r : r.perVcpu[vcpu]!;
  const d = vcpu === null ? r.exitDetail : r.exitDetail?.perVcpu[vcpu];
  return kvmCounters({ exit: (reason) => v.exits.byReason[reason]?.count ?? 0, exits: v.exits.total, mmu: v.mmu, tlbFlush: d?.tlbFlush ?? 0, signalExits: d?.signalExits ?? 0 });
}

/** The counters of vCPUs while they run: exit counts indexed by reason number, and each vCPU's groups. */
export function kvmCountersOfVcpus(vcpus: readonly { exitCount: ArrayLike<number>; mmu: MmuStats; tlbFlush: number; signalExits: number }[]): KvmCounters {
  const byReason = new Float64Array(EXIT_REASON_SLOTS);
  let tlbFlush = 0;
  let signalExits = 0;
  const mmu = { shadowFaults: 0, pagesCreated: 0, pagesZapped: 0, pagesEvicted: 0, ptWritesEmulated: 0, checks: 0, staleTranslations: 0 };
  let exits = 0;
  for (const v of vcpus) {
    for (const name of EXIT_REASON_NAMES) {
      const n = v.exitCount[EXIT_REASON[name]] ?? 0;
      byReason[EXIT_REASON[name]]! += n;
      exits += n;
    }
    tlbFlush += v.tlbFlush;
    signalExits += v.signalExits;
    for (const k of Object.keys(mmu) as (keyof MmuStats)[]) mmu[k] += v.mmu[k];
  }
  return kvmCounters({ exit: (reason) => byReason[EXIT_REASON[reason]]!, exits, mmu, tlbFlush, signalExits });
}

/** Several replicas' counters summed. */
export function sumCounters(parts: readonly KvmCounters[]): KvmCounters {
  const out: KvmCounters = {};
  for (const e of KVM_STAT) out[e.name] = parts.reduce((a, p) => a + (p[e.name] ?? 0), 0);
  return out;
}
