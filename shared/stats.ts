/**
 * The statistics of one run, as printed by `vcpusim run --json` and stored by the
 * coordinator. Times are simulated guest time; host (simulator) time is kept apart
 * in `host` so that two runs of the same config compare byte-identical without it.
 *
 * The counters come in groups, each declared once here (`STAT_GROUPS`, in the manner of
 * KVM's debugfs table and gem5's stats groups): a group's fields, in the order the JSON
 * shows them, and for each whether it is a counter (zeroed when the measured run starts,
 * summed over vCPUs) or a setting (left alone, the same on every vCPU). The simulation
 * registers each group's object once per vCPU (or once per VM) in a `StatsRegistry`;
 * resetting, taking a vCPU's partial statistics and merging parts all follow from it.
 */
import type { SimConfig } from './config.js';
import type { ExitDetail } from './exit-detail.js';
import type { ExitReasonName } from './exits.js';

export const SCHEMA_VERSION = 2;

/** A group field's kind: a counter, or a setting reported beside the counters. */
type FieldKind = 'counter' | 'setting';

export const STAT_GROUPS = {
  /** The paravirt cr3 cache (hypervisor/kvm-para.ts): guest lookups, host fills. */
  cr3Cache: { size: 'setting', lookups: 'counter', hits: 'counter', misses: 'counter', fills: 'counter', evictions: 'counter' },
  /** The vCPU's TLB (machine/tlb.ts). */
  tlb: { flushesFull: 'counter', flushesNonGlobal: 'counter', misses: 'counter' },
  /** The guest kernel on this CPU (guest/cpu.ts). */
  guest: {
    contextSwitches: 'counter',
    addressSpaceSwitches: 'counter',
    syscalls: 'counter',
    messages: 'counter',
    ioDelayWrites: 'counter',
    timerTicks: 'counter',
    /** Tasks the guest's load balancer moved onto a vCPU (0 with one vCPU). */
    migrations: 'counter',
  },
  /**
   * This vCPU's shard of the shadow MMU (hypervisor/kvm/shadow/), and the translation
   * checker: checks run (config `check`, or a workload that checks) and the most stale
   * translations one check found (0 if every check passed).
   */
  mmu: {
    shadowFaults: 'counter',
    pagesCreated: 'counter',
    pagesZapped: 'counter',
    pagesEvicted: 'counter',
    ptWritesEmulated: 'counter',
    checks: 'counter',
    staleTranslations: 'counter',
  },
  /** The i8259A pair (machine/devices/i8259.ts), one per VM. */
  pic: { portReads: 'counter', portWrites: 'counter', irqsDelivered: 'counter' },
  /**
   * The page walker of a CPU of today (machine/walker.ts): first-level TLB misses the STLB
   * served, page walks, and their memory references (two-dimensional under EPT).
   */
  walk: { stlbHits: 'counter', walks: 'counter', refs: 'counter' },
  /**
   * KVM's previous-roots cache (hypervisor/kvm/mmu/): guest cr3 loads served by the
   * current or a previous root (fast_pgd_switch), those that missed and had kvm_mmu_load
   * find or build a root, roots dropped from the cache (their root_count), roots built
   * anew (a hash miss), kvm_mmu_sync_roots runs and the unsync pages they synced, leaf
   * tables let go unsync, KVM's flushes of the vCPU's tagged TLB, and PVM's user/kernel
   * switches done by the switcher without the hypervisor. KVM counts none of the first
   * four (no statistic marks a fast switch): they are the model's.
   */
  roots: {
    size: 'setting',
    fastSwitches: 'counter',
    misses: 'counter',
    frees: 'counter',
    built: 'counter',
    syncs: 'counter',
    pagesSynced: 'counter',
    unsyncs: 'counter',
    tlbFlushes: 'counter',
    directSwitches: 'counter',
  },
  /**
   * An x86-64 guest's cr3 writes (guest/mm/tlb-state.ts): all of them, those with the
   * no-flush bit, the ASIDs it had to (re)take with a flush (choose_new_asid), and the
   * kernel/user switches of page-table isolation.
   */
  asid: { cr3Writes: 'counter', noFlush: 'counter', newAsids: 'counter', ptiSwitches: 'counter' },
} as const satisfies Record<string, Record<string, FieldKind>>;

/**
 * The groups a run of `cfg` has: the 2007 ones always; the page walker's with an x86-64
 * guest or EPT, the previous roots' in the modes that keep them, the ASIDs' with an
 * x86-64 guest. A run's result shows only these.
 */
export function groupApplies(name: StatGroupName, cfg: { readonly mode: string; readonly arch?: string }): boolean {
  switch (name) {
    case 'walk':
      return cfg.arch === 'x86-64' || cfg.mode === 'kvm-ept';
    case 'roots':
      return cfg.mode === 'kvm-shadow' || cfg.mode === 'kvm-shadow-pv';
    case 'asid':
      return cfg.arch === 'x86-64';
    default:
      return true;
  }
}

export type StatGroupName = keyof typeof STAT_GROUPS;
/** The values of one group: a plain object with a number per field. */
export type GroupStats<G extends StatGroupName> = { -readonly [F in keyof (typeof STAT_GROUPS)[G]]: number };

/** Groups every vCPU has, in the order a vCPU's statistics show them. */
export const VCPU_GROUPS = ['cr3Cache', 'tlb', 'guest', 'mmu', 'walk', 'roots', 'asid'] as const;
export type VcpuGroupName = (typeof VCPU_GROUPS)[number];
/** Groups a VM has once. */
export const VM_GROUPS = ['pic'] as const;
export type VmGroupName = (typeof VM_GROUPS)[number];

export type Cr3CacheStats = GroupStats<'cr3Cache'>;
export type TlbStats = GroupStats<'tlb'>;
export type GuestStats = GroupStats<'guest'>;
export type MmuStats = GroupStats<'mmu'>;
export type PicStats = GroupStats<'pic'>;
export type WalkStats = GroupStats<'walk'>;
export type RootStats = GroupStats<'roots'>;
export type AsidStats = GroupStats<'asid'>;

/** A group's object with every field 0 (components built outside a registry, e.g. in tests, use one of these). */
export function newGroup<G extends StatGroupName>(name: G): GroupStats<G> {
  const out: Record<string, number> = {};
  for (const f of Object.keys(STAT_GROUPS[name])) out[f] = 0;
  return out as GroupStats<G>;
}

function fieldsOf(name: StatGroupName): readonly [string, FieldKind][] {
  return Object.entries(STAT_GROUPS[name]);
}

/** A copy of a group's values, in schema order. */
export function copyGroup<G extends StatGroupName>(name: G, g: GroupStats<G>): GroupStats<G> {
  const src = g as Record<string, number>;
  const out: Record<string, number> = {};
  for (const [f] of fieldsOf(name)) out[f] = src[f]!;
  return out as GroupStats<G>;
}

/** The groups of several vCPUs combined: counters summed, settings taken from the first. */
export function sumGroups<G extends StatGroupName>(name: G, parts: readonly GroupStats<G>[]): GroupStats<G> {
  const out: Record<string, number> = {};
  for (const [f, kind] of fieldsOf(name)) {
    let x = (parts[0] as Record<string, number>)[f]!;
    if (kind === 'counter') for (let i = 1; i < parts.length; i++) x += (parts[i] as Record<string, number>)[f]!;
    out[f] = x;
  }
  return out as GroupStats<G>;
}

/** A vCPU's groups, and a VM's. */
export type VcpuGroups = { [G in VcpuGroupName]: GroupStats<G> };
/** The groups only some runs have (groupApplies). */
export type OptionalGroupName = 'walk' | 'roots' | 'asid';
/** A vCPU's groups as a result shows them: those that apply. */
export type ResultVcpuGroups = Omit<VcpuGroups, OptionalGroupName> & Partial<Pick<VcpuGroups, OptionalGroupName>>;
export type VmGroups = { [G in VmGroupName]: GroupStats<G> };

/**
 * The order a run's totals show the groups in (after the exits), as the result schema
 * has always had them; a vCPU's own statistics show its groups in VCPU_GROUPS order.
 */
export const TOTALS_ORDER = ['cr3Cache', 'mmu', 'tlb', 'pic', 'guest', 'walk', 'roots', 'asid'] as const satisfies readonly (VcpuGroupName | VmGroupName)[];

function groupsOf<N extends StatGroupName>(names: readonly N[], make: (name: N) => Record<string, number>): { [G in N]: GroupStats<G> } {
  const out: Record<string, Record<string, number>> = {};
  for (const name of names) out[name] = make(name);
  return out as { [G in N]: GroupStats<G> };
}

/**
 * Where a VM's counters live: one object per group per vCPU, one per group for the VM.
 * Each component is handed its group's object when it is built and counts into it
 * (`stat.misses++`); several components may share a group (the checker and the shadow
 * MMU both count into `mmu`).
 */
export class StatsRegistry {
  private readonly vcpus: VcpuGroups[] = [];
  readonly vm: VmGroups = groupsOf(VM_GROUPS, newGroup);

  /** vCPU `id`'s groups (made on first use). */
  vcpu(id: number): VcpuGroups {
    let g = this.vcpus[id];
    if (g === undefined) this.vcpus[id] = g = groupsOf(VCPU_GROUPS, newGroup);
    return g;
  }

  /** The measured run starts: every counter goes to 0 (settings stay). */
  reset(): void {
    const zero = (name: StatGroupName, g: Record<string, number>): void => {
      for (const [f, kind] of fieldsOf(name)) if (kind === 'counter') g[f] = 0;
    };
    for (const v of this.vcpus) if (v !== undefined) for (const name of VCPU_GROUPS) zero(name, v[name]);
    for (const name of VM_GROUPS) zero(name, this.vm[name]);
  }

  /** A copy of vCPU `id`'s groups, in VCPU_GROUPS order. */
  vcpuSnapshot(id: number): VcpuGroups {
    const g = this.vcpu(id) as Record<string, GroupStats<StatGroupName>>;
    return groupsOf(VCPU_GROUPS, (name) => copyGroup(name, g[name]!));
  }

  /** A copy of the VM's groups. */
  vmSnapshot(): VmGroups {
    const g = this.vm as Record<string, GroupStats<StatGroupName>>;
    return groupsOf(VM_GROUPS, (name) => copyGroup(name, g[name]!));
  }
}

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

/** Everything counted per vCPU (the VM totals are sums of these, plus the VM-wide PIC). */
export type VcpuStats = {
  vcpu: number;
  guestTimeNs: number;
  haltedNs: number;
  exits: ExitStats;
} & ResultVcpuGroups;

export type RunResult = {
  schemaVersion: number;
  config: SimConfig;
  metric: MetricStats;
  /** Simulated time of the whole run (slowest vCPU). */
  guestTimeNs: number;
  /** Host CPU time the guest consumed, as a fraction of guestTimeNs x vcpus (1 = never halted). */
  hostCpuUtilisation: number;
  exits: ExitStats;
} & ResultVcpuGroups &
  VmGroups & {
    perVcpu: VcpuStats[];
    /** Exit times at perf kvm stat's level (exit-detail.ts). */
    exitDetail: ExitDetail;
  };
