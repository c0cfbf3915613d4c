/**
 * The statistics of one run, as printed by `vcpusim run --json` and stored by the
 * coordinator. Times are simulated guest time; host (simulator) time is kept apart
 * in `host` so that two runs of the same config compare byte-identical without it.
 */
import type { SimConfig } from './config.js';
import type { ExitReasonName } from './exits.js';

export const SCHEMA_VERSION = 2;

export interface MetricStats {
  name: string;
  unit: string;
  value: number;
}

export interface ExitStats {
  total: number;
  /** Only reasons that occurred, in reason-number order. */
  byReason: Partial<Record<ExitReasonName, { count: number; ns: number }>>;
}

export interface Cr3CacheStats {
  size: number;
  lookups: number;
  hits: number;
  misses: number;
  fills: number;
  evictions: number;
}

export interface MmuStats {
  shadowFaults: number;
  pagesCreated: number;
  pagesZapped: number;
  pagesEvicted: number;
  ptWritesEmulated: number;
  /** Translation checks run (config `check`, or a workload that checks). */
  checks: number;
  /** Most stale translations one check found (0 if every check passed). */
  staleTranslations: number;
}

export interface TlbStats {
  flushesFull: number;
  flushesNonGlobal: number;
  misses: number;
}

export interface PicStats {
  portReads: number;
  portWrites: number;
  irqsDelivered: number;
}

export interface GuestStats {
  contextSwitches: number;
  addressSpaceSwitches: number;
  syscalls: number;
  messages: number;
  ioDelayWrites: number;
  timerTicks: number;
  /** Tasks the guest's load balancer moved onto a vCPU (0 with one vCPU). */
  migrations: number;
}

/** Everything counted per vCPU (the VM totals are sums of these, plus the VM-wide MMU and PIC). */
export interface VcpuStats {
  vcpu: number;
  guestTimeNs: number;
  haltedNs: number;
  exits: ExitStats;
  cr3Cache: Cr3CacheStats;
  tlb: TlbStats;
  guest: GuestStats;
  /** This vCPU's shard of the shadow MMU (with several vCPUs each has its own; see worker/platform/kvm.ts). */
  mmu: MmuStats;
}

export interface RunResult {
  schemaVersion: number;
  config: SimConfig;
  metric: MetricStats;
  /** Simulated time of the whole run (slowest vCPU). */
  guestTimeNs: number;
  /** Host CPU time the guest consumed, as a fraction of guestTimeNs x vcpus (1 = never halted). */
  hostCpuUtilisation: number;
  exits: ExitStats;
  cr3Cache: Cr3CacheStats;
  mmu: MmuStats;
  tlb: TlbStats;
  pic: PicStats;
  guest: GuestStats;
  perVcpu: VcpuStats[];
}
