/**
 * Run configuration: the schema, its defaults and its validation.
 *
 * A config names one simulated VM (mode, vCPUs, memory, MMU sizes), one guest
 * workload and one cost profile. Validation errors name the field, the value
 * given and what is allowed, in one line each.
 */
import { z } from 'zod';
import { PROFILES, DEFAULT_PROFILE } from './costs.js';

export { MODES, MODE_TRAITS, PINNED_ROOT_FIXES, WORKLOADS } from './modes.js';
export type { Mode, ModeTraits, PinnedRootFix, Workload } from './modes.js';
import { MODES, PINNED_ROOT_FIXES, WORKLOADS, type Mode, type PinnedRootFix, type Workload } from './modes.js';

/** A fully resolved run configuration (what every result records). */
export interface SimConfig {
  mode: Mode;
  workload: Workload;
  /** ctxswitch: tasks in the ring. pipe: always 2. hackbench: derived, groups x 40. */
  tasks: number;
  /** hackbench groups (20 senders + 20 receivers each). */
  groups: number;
  /** ctxswitch: token passes per task; pipe: round trips; hackbench: messages per sender per receiver; idle: milliseconds; pgdreuse: children forked; iomix: token passes per task. */
  loops: number;
  /** hackbench: threads sharing one address space instead of processes. */
  thread: boolean;
  /** hackbench: pipes instead of unix stream sockets. */
  pipe: boolean;
  /** Entries of the paravirt cr3 cache (KVM_CR3_CACHE_SIZE, 4 in the patch). */
  cacheSize: number;
  /** Shadow page pool (KVM_NUM_MMU_PAGES, 256 in early 2007). */
  mmuPages: number;
  /** Guest timer frequency. */
  hz: number;
  vcpus: number;
  /**
   * Simulated microseconds per synchronisation quantum of a multi-vCPU VM: within a
   * quantum each vCPU runs on its own, and what one vCPU does to another (a wake-up, a
   * message on a shared socket, a shadow-page zap) reaches it at the quantum's end. Has
   * no effect with one vCPU.
   */
  quantum: number;
  seed: number;
  profile: string;
  /**
   * kvm-paravirt: what protects a page directory that is freed while its shadow root is
   * pinned in the cr3 cache. 'none': the patch as posted (writes to a cache-pinned root
   * are emulated but cannot zap it); 'unpin-on-write': such a write drops the cache entry
   * first; 'hypercall': the guest tells the host when it frees a page directory.
   */
  pinnedRootFix: PinnedRootFix;
  /** VM exit/entry flushes the whole TLB (true: 2007 hardware without VPID; false: a hypothetical tagged TLB, for the review's global-entries question). */
  exitFlush: boolean;
  /** Run the translation checker (shadow vs guest page tables) after every page-table teardown and at the end. */
  check: boolean;
  /** iomix: disk reads per token pass. */
  io: number;
  /**
   * Guest unix sockets' sk_sndbuf in bytes: sysctl_wmem_default, SK_WMEM_MAX = 65535 in
   * 2.6.20. Each 100-byte message is charged its skb truesize (304 bytes) against it.
   */
  sndbuf: number;
  /** Guest physical memory, all of it lowmem (direct-mapped by the kernel, at most 896 MiB). */
  memoryMiB: number;
}

interface FieldInfo {
  readonly allowed: string;
}

const intRange = (min: number, max: number): FieldInfo => ({ allowed: `an integer from ${min} to ${max}` });

/** What each field allows, in words, for error messages. */
export const FIELD_INFO: Readonly<Record<keyof SimConfig, FieldInfo>> = {
  mode: { allowed: `one of ${MODES.join(', ')}` },
  workload: { allowed: `one of ${WORKLOADS.join(', ')}` },
  tasks: intRange(1, 100000),
  groups: intRange(1, 1000),
  loops: intRange(1, 100000000),
  thread: { allowed: 'true or false' },
  pipe: { allowed: 'true or false' },
  cacheSize: intRange(1, 1024),
  mmuPages: intRange(16, 65536),
  hz: { allowed: 'one of 100, 250, 300, 1000' },
  vcpus: intRange(1, 64),
  quantum: intRange(1, 100000),
  seed: intRange(0, 4294967295),
  profile: { allowed: `one of ${Object.keys(PROFILES).join(', ')}` },
  memoryMiB: intRange(16, 896),
  pinnedRootFix: { allowed: `one of ${PINNED_ROOT_FIXES.join(', ')}` },
  exitFlush: { allowed: 'true or false' },
  check: { allowed: 'true or false' },
  io: intRange(0, 64),
  sndbuf: intRange(512, 4194304),
};

const int = (min: number, max: number) => z.int().min(min).max(max);

export const configSchema = z
  .object({
    mode: z.enum(MODES),
    workload: z.enum(WORKLOADS),
    tasks: int(1, 100000),
    groups: int(1, 1000),
    loops: int(1, 100000000),
    thread: z.boolean(),
    pipe: z.boolean(),
    cacheSize: int(1, 1024),
    mmuPages: int(16, 65536),
    hz: z.union([z.literal(100), z.literal(250), z.literal(300), z.literal(1000)]),
    vcpus: int(1, 64),
    quantum: int(1, 100000),
    seed: int(0, 4294967295),
    profile: z.string().refine((p) => p in PROFILES),
    memoryMiB: int(16, 896),
    pinnedRootFix: z.enum(PINNED_ROOT_FIXES),
    exitFlush: z.boolean(),
    check: z.boolean(),
    io: int(0, 64),
    sndbuf: int(512, 4194304),
  })
  .strict();

/** A user mistake in a config: names the field, the value and what is allowed. */
export class ConfigError extends Error {
  readonly code = 'ECONFIG';
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly allowed: string,
  ) {
    super(`${field}: ${formatValue(value)} is not allowed; expected ${allowed}`);
    this.name = 'ConfigError';
  }
}

function formatValue(v: unknown): string {
  if (v === undefined) return 'a missing value';
  return JSON.stringify(v);
}

export const DEFAULT_LOOPS: Readonly<Record<Workload, number>> = {
  ctxswitch: 10000,
  pipe: 10000,
  hackbench: 100,
  idle: 1000,
  pgdreuse: 20,
  iomix: 2000,
};

export const DEFAULTS = {
  mode: 'kvm-paravirt' as Mode,
  workload: 'ctxswitch' as Workload,
  tasks: 2,
  groups: 1,
  thread: false,
  pipe: false,
  cacheSize: 4,
  mmuPages: 256,
  hz: 1000,
  vcpus: 1,
  quantum: 20,
  seed: 1,
  profile: DEFAULT_PROFILE,
  memoryMiB: 256,
  pinnedRootFix: 'none' as PinnedRootFix,
  exitFlush: true,
  check: false,
  io: 0,
  sndbuf: 65535,
};

/** Tasks a hackbench of `groups` groups creates (20 senders + 20 receivers each). */
export const HACKBENCH_GROUP_TASKS = 40;

/**
 * Fill defaults, derive dependent fields, validate. Throws ConfigError on the
 * first bad field (in schema order).
 */
export function resolveConfig(partial: Partial<SimConfig>): SimConfig {
  const workload = (partial.workload ?? DEFAULTS.workload);
  const merged: Record<string, unknown> = { ...DEFAULTS, loops: DEFAULT_LOOPS[workload] ?? 1, ...stripUndefined(partial) };
  if (workload === 'pipe') merged.tasks = 2;
  if (workload === 'idle') merged.tasks = 1;
  if (workload === 'pgdreuse' || workload === 'iomix') merged.tasks = 2;
  if (workload === 'hackbench' && typeof merged.groups === 'number') merged.tasks = merged.groups * HACKBENCH_GROUP_TASKS;
  const parsed = configSchema.safeParse(merged, { reportInput: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      throw new ConfigError(issue.keys[0]!, 'unknown field', `one of ${Object.keys(FIELD_INFO).join(', ')}`);
    }
    const field = String(issue.path[0]) as keyof SimConfig;
    throw new ConfigError(field, issue.input, FIELD_INFO[field]?.allowed ?? issue.message);
  }
  const cfg = parsed.data as SimConfig;
  if (cfg.vcpus > 1 && !SMP_WORKLOADS.includes(cfg.workload)) {
    throw new ConfigError('vcpus', cfg.vcpus, `1 for ${cfg.workload} (it runs on one vCPU); more vCPUs run ${SMP_WORKLOADS.join(', ')}`);
  }
  return cfg;
}

/** Workloads that run on a multi-vCPU VM (the others model one CPU: one disk on vCPU 0's i8259A, a host-CPU figure from one clock, a fork chain). */
export const SMP_WORKLOADS: readonly Workload[] = ['ctxswitch', 'pipe', 'hackbench'];

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
