/**
 * The config fields, one entry each: what values it takes (the zod schema, and the same
 * in words for error messages), its default, and how the command line sets it. The
 * config's type, schema, defaults and field list (config.ts) and the options of `run`
 * and `sweep` (coordinator/cli/config-options.ts) are all built from this table, so a new field is one
 * new entry here.
 *
 * The entries are in the order of a resolved config's keys (what results print and
 * hash), which is also the order validation checks them in and lists them in messages.
 */
import type { z } from 'zod';
import { memo, zod } from './lazy-lib.js';
import { PROFILES, DEFAULT_PROFILE, hasMitigationSwitch, type HardwareFeatures } from './costs.js';
import { SK_WMEM_MAX, SOCK_MIN_SNDBUF } from './guest-build.js';
import { ARCHES, MODES, MODE_TRAITS, PINNED_ROOT_FIXES, WORKLOADS, archesOf, type Mode, type ModeTraits, type Workload } from './modes.js';

/**
 * How a field is set on the command line: `run` takes one value, `sweep` a comma list.
 * `order` places the option among the config options: in `--help` (where the choice
 * options come first, then the others, each group in this order) and among the axes of a
 * sweep (the first varies slowest). A field without an option is set with `--param`.
 */
export type FieldOption =
  | {
      /** A name among `choices`: `run` checks it as it parses; `sweep` takes a comma list, checked when its configs resolve. */
      readonly kind: 'choice';
      readonly flag: string;
      readonly order: number;
      /** Name of the value in `run`'s help, e.g. `<mode>`. */
      readonly arg: string;
      /** Help in `run`. */
      readonly help: string;
      /** Help in `sweep`, followed there by ", among <choices>". */
      readonly listHelp: string;
      /** `run` fills in the default (and its help shows it). */
      readonly runDefault?: boolean;
      /** `sweep`'s help ends with "(default <value>)". */
      readonly listDefault?: boolean;
    }
  | {
      /** An integer; `sweep` takes a comma list of integers. Ranges are checked when configs resolve. */
      readonly kind: 'int';
      readonly flag: string;
      readonly order: number;
      /** Name of the value in `run`'s help (default `<n>`; `sweep` shows `<list>`). */
      readonly arg?: string;
      readonly help: string;
      /** The help ends with "(default <value>)". */
      readonly showDefault?: boolean;
    }
  | {
      /** A text value (a path): one value in `run` and in `sweep` alike. */
      readonly kind: 'text';
      readonly flag: string;
      readonly order: number;
      readonly arg: string;
      readonly help: string;
    }
  | {
      /** A number; `sweep` takes a comma list of numbers. */
      readonly kind: 'number';
      readonly flag: string;
      readonly order: number;
      readonly help: string;
    }
  | {
      /** A boolean: `--name` sets it true, `--no-name` sets it false; absent, the default holds. */
      readonly kind: 'switch';
      readonly flag: string;
      readonly order: number;
      readonly help: string;
      /** Both `--name` and `--no-name` (a default that depends on other fields may need either). */
      readonly negatable?: boolean;
    };

/**
 * What a field takes: the schema and the same in words ("an integer from 1 to 64"). The
 * schema is built on its first call (zod loads then: shared/lazy-lib.ts) and kept.
 */
export interface FieldValues<T> {
  readonly schema: () => z.ZodType<T>;
  readonly allowed: string;
  /** The names a choice field takes. */
  readonly choices?: readonly string[];
}

/**
 * Where a field has an effect: the workloads and the modes that read it, and a further
 * condition on the other fields. A config outside it runs the same whatever the field's
 * value: `run` refuses such a field when it is given, and experiments and sweeps set it
 * to its default there, so that the store key does not depend on it (config.ts). Absent:
 * the field applies to every config.
 */
export interface FieldScope {
  readonly workloads?: readonly Workload[];
  readonly modes?: readonly Mode[];
  /** A condition on the config (defaults filled in); `applies` and `not` say it in words. */
  readonly when?: { readonly test: (cfg: Readonly<Record<string, unknown>>) => boolean; readonly applies: string; readonly not: string };
  /** More about why a config outside the scope ignores the field (where the value comes from instead). */
  readonly why?: (cfg: Readonly<Record<string, unknown>>) => string | undefined;
}

/** The rest of an entry. A field has a `default`, a `defaultFor` its workload, or is `derive`d. */
export interface FieldExtras<T> {
  readonly default?: T;
  /** The default when it depends on the workload (an unknown workload is reported on its own field first). */
  readonly defaultFor?: (workload: string) => T;
  /** A value that replaces whatever was given, from the other fields (defaults filled in); undefined keeps it. */
  readonly derive?: (cfg: Readonly<Record<string, unknown>>) => T | undefined;
  /** The default when it depends on other fields (the mode, the profile): from the config with the others' defaults filled in. */
  readonly defaultOf?: (cfg: Readonly<Record<string, unknown>>) => T;
  readonly option?: FieldOption;
  /** Where the field has an effect (absent: everywhere). */
  readonly appliesTo?: FieldScope;
}

/** One entry of the table. */
export type FieldSpec<T = unknown> = FieldValues<T> & FieldExtras<T>;

/** An entry; its type keeps which extras it has (what `DEFAULTS` holds is read from it). */
function field<S extends z.ZodType, const E extends FieldExtras<z.output<S>>>(values: FieldValues<z.output<S>> & { readonly schema: () => S }, extras: E) {
  return { ...values, ...extras };
}

const ints = (min: number, max: number) => ({ schema: memo(() => zod().int().min(min).max(max)), allowed: `an integer from ${min} to ${max}` });

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => ({ schema: memo(() => zod().enum(values)), allowed: `one of ${values.join(', ')}`, choices: values });

/** One of a few integers (the field's type stays a number). */
const oneOfInts = (values: readonly [number, number, ...number[]]) => {
  const schema = memo((): z.ZodType<number> => zod().union(values.map((v) => zod().literal(v))));
  return { schema, allowed: `one of ${values.join(', ')}` };
};

const bool = () => ({ schema: memo(() => zod().boolean()), allowed: 'true or false' });

/** Default `loops` of each workload. */
export const DEFAULT_LOOPS: Readonly<Record<Workload, number>> = {
  ctxswitch: 10000,
  pipe: 10000,
  hackbench: 100,
  idle: 1000,
  pgdreuse: 20,
  iomix: 2000,
  trace: 1,
  syscall: 100000,
  pagefault: 10000,
  fork: 1000,
};

/**
 * The largest VM: an i386 2.6.20 kernel takes NR_CPUS up to 255 (arch/i386/Kconfig:
 * "int \"Maximum number of CPUs (2-255)\"", range 2 255); 256 is the power of two above.
 */
export const MAX_VCPUS = 256;

/** Tasks a hackbench of `groups` groups creates (20 senders + 20 receivers each). */
export const HACKBENCH_GROUP_TASKS = 40;

const profileNames = Object.keys(PROFILES);

/** A feature of the config's profile (false for an unknown profile: that is reported on its own field). */
export const profileHas = (cfg: Readonly<Record<string, unknown>>, f: keyof HardwareFeatures): boolean => PROFILES[String(cfg.profile)]?.features[f] === true;

const isModern = (cfg: Readonly<Record<string, unknown>>): boolean => MODE_TRAITS[cfg.mode as Mode]?.modern === true;
const is64 = (cfg: Readonly<Record<string, unknown>>): boolean => cfg.arch === 'x86-64';

/** The modes with a trait (the scope of a field that only some hypervisors read). */
const modesWith = (trait: (t: ModeTraits) => boolean): Mode[] => MODES.filter((m) => trait(MODE_TRAITS[m]));

/** Guest memory: the default, and the most a non-PAE i386 guest has (MiB). */
export const DEFAULT_MEMORY_MIB = 256;
export const MAX_MEMORY_MIB = 4096;

export const FIELDS = {
  mode: field(oneOf(MODES), {
    default: 'kvm-paravirt',
    option: { kind: 'choice', flag: '--mode', order: 10, arg: '<mode>', help: 'hypervisor configuration', listHelp: 'hypervisor configurations', runDefault: true, listDefault: true },
  }),
  workload: field(oneOf(WORKLOADS), {
    default: 'ctxswitch',
    option: { kind: 'choice', flag: '--workload', order: 20, arg: '<name>', help: 'guest workload', listHelp: 'guest workloads', runDefault: true, listDefault: true },
  }),
  /** ctxswitch: tasks in the ring. pipe, pgdreuse, iomix: always 2; idle: 1. hackbench: derived, groups x 40. */
  tasks: field(ints(1, 100000), {
    default: 2,
    derive: (cfg) => {
      switch (cfg.workload) {
        case 'pipe':
          return 2;
        case 'idle':
          return 1;
        case 'pgdreuse':
        case 'iomix':
          return 2;
        case 'hackbench':
          return typeof cfg.groups === 'number' ? cfg.groups * HACKBENCH_GROUP_TASKS : undefined;
        default:
          return undefined;
      }
    },
    appliesTo: { workloads: ['ctxswitch'], why: (cfg) => (cfg.workload === 'hackbench' ? 'its tasks come from --groups' : `it always runs ${cfg.workload === 'idle' ? 'one task' : 'two tasks'}`) },
    option: { kind: 'int', flag: '--tasks', order: 40, help: 'ctxswitch: tasks in the ring' },
  }),
  /** hackbench groups (20 senders + 20 receivers each). */
  groups: field(ints(1, 1000), {
    default: 1,
    appliesTo: { workloads: ['hackbench'] },
    option: { kind: 'int', flag: '--groups', order: 50, help: 'hackbench: groups of 20 senders + 20 receivers' },
  }),
  /** ctxswitch: token passes per task; pipe: round trips; hackbench: messages per sender per receiver; idle: milliseconds; pgdreuse: children forked; iomix: token passes per task. */
  loops: field(ints(1, 100000000), {
    defaultFor: (workload) => DEFAULT_LOOPS[workload as Workload] ?? 1,
    option: { kind: 'int', flag: '--loops', order: 60, help: 'ctxswitch: passes timed, at least (after the warm-up, until 5 ms); pipe: round trips timed, at least (until 1 s); iomix: passes per task; hackbench: loops; idle: ms; pgdreuse: rounds' },
  }),
  /** hackbench, ctxswitch: threads sharing one address space instead of processes. */
  thread: field(bool(), {
    default: false,
    appliesTo: { workloads: ['hackbench', 'ctxswitch'] },
    option: { kind: 'switch', flag: '--thread', order: 70, help: 'hackbench, ctxswitch: threads of one process instead of processes' },
  }),
  /** hackbench: pipes instead of unix stream sockets. */
  pipe: field(bool(), {
    default: false,
    appliesTo: { workloads: ['hackbench'] },
    option: { kind: 'switch', flag: '--pipe', order: 80, help: 'hackbench: pipes instead of unix sockets' },
  }),
  /** Entries of the paravirt cr3 cache (KVM_CR3_CACHE_SIZE, 4 in the patch). */
  cacheSize: field(ints(1, 1024), {
    default: 4,
    appliesTo: { modes: modesWith((t) => t.paravirt) },
    option: { kind: 'int', flag: '--cache-size', order: 90, help: 'kvm-paravirt: cr3 cache entries' },
  }),
  /** Shadow page pool (KVM_NUM_MMU_PAGES, 256 in early 2007). */
  /**
   * Shadow page pool: KVM_NUM_MMU_PAGES (256) in early 2007; today's KVM sizes it by the
   * guest's memory, one page per 50 (KVM_MEMSLOT_PAGES_TO_MMU_PAGES_RATIO), at least 64
   * (KVM_MIN_ALLOC_MMU_PAGES): kvm_mmu_calculate_default_mmu_pages.
   */
  mmuPages: field(ints(16, 1048576), {
    default: 256,
    defaultOf: (cfg) => (isModern(cfg) && typeof cfg.memoryMiB === 'number' ? Math.max(64, Math.floor((cfg.memoryMiB * 256) / 50)) : 256),
    appliesTo: { modes: modesWith((t) => t.shadow !== 'none') },
    option: { kind: 'int', flag: '--mmu-pages', order: 100, help: 'shadow page pool (KVM_NUM_MMU_PAGES in 2007; since then guest pages / 50)' },
  }),
  /** Guest timer frequency. */
  hz: field(oneOfInts([100, 250, 300, 1000]), {
    default: 1000,
    option: { kind: 'int', flag: '--hz', order: 110, help: 'guest timer frequency' },
  }),
  vcpus: field(ints(1, MAX_VCPUS), {
    default: 1,
    option: { kind: 'int', flag: '--vcpus', order: 120, help: 'vCPUs of the VM' },
  }),
  /**
   * Simulated microseconds per synchronisation quantum of a multi-vCPU VM: within a
   * quantum each vCPU runs on its own, and what one vCPU does to another (a wake-up, a
   * message on a shared socket, a shadow-page zap) reaches it at the quantum's end. Has
   * no effect with one vCPU.
   */
  quantum: field(ints(1, 100000), {
    default: 20,
    appliesTo: { when: { test: (cfg) => typeof cfg.vcpus === 'number' && cfg.vcpus > 1, applies: 'with more than one vCPU (--vcpus)', not: 'with one vCPU' } },
    option: { kind: 'int', flag: '--quantum', order: 130, arg: '<us>', help: 'multi-vCPU VMs: simulated microseconds between synchronisations of the vCPUs', showDefault: true },
  }),
  seed: field(ints(0, 4294967295), {
    default: 1,
    option: { kind: 'int', flag: '--seed', order: 150, help: 'random seed' },
  }),
  profile: field(
    { schema: memo(() => zod().string().refine((p) => p in PROFILES)), allowed: `one of ${profileNames.join(', ')}`, choices: profileNames },
    {
      default: DEFAULT_PROFILE,
      option: { kind: 'choice', flag: '--profile', order: 30, arg: '<name>', help: 'cost profile', listHelp: 'cost profiles', runDefault: true },
    },
  ),
  /**
   * Guest physical memory: the first 896 MiB lowmem (direct-mapped by the kernel), the rest
   * ZONE_HIGHMEM (user pages only). At most 4096 MiB: the 32-bit physical address space of
   * a non-PAE i386 kernel.
   */
  memoryMiB: field(ints(16, MAX_MEMORY_MIB), {
    default: DEFAULT_MEMORY_MIB,
    option: { kind: 'int', flag: '--memory', order: 140, arg: '<MiB>', help: 'guest memory in MiB (above 896: highmem, user pages only; non-PAE i386 maximum 4096)' },
  }),
  /**
   * kvm-paravirt: what protects a page directory that is freed while its shadow root is
   * pinned in the cr3 cache. 'none': the patch as posted (writes to a cache-pinned root
   * are emulated but cannot zap it); 'unpin-on-write': such a write drops the cache entry
   * first; 'hypercall': the guest tells the host when it frees a page directory.
   */
  pinnedRootFix: field(oneOf(PINNED_ROOT_FIXES), {
    default: 'none',
    appliesTo: { modes: modesWith((t) => t.paravirt) },
    option: {
      kind: 'choice',
      flag: '--pinned-root-fix',
      order: 180,
      arg: '<fix>',
      help: 'kvm-paravirt: what protects a freed page directory pinned in the cr3 cache',
      listHelp: 'kvm-paravirt: protections of cache-pinned roots',
    },
  }),
  /** VM exit/entry flushes the whole TLB (true: 2007 hardware without VPID; false: a hypothetical tagged TLB, for the review's global-entries question). */
  exitFlush: field(bool(), {
    default: true,
    appliesTo: { modes: modesWith((t) => t.vmx && !t.modern) },
    option: { kind: 'switch', flag: '--no-exit-flush', order: 190, help: 'VM exit/entry keeps the TLB (a hypothetical tagged TLB; default: flush, as 2007 hardware)' },
  }),
  /** Run the translation checker (shadow vs guest page tables) after every page-table teardown and at the end. */
  check: field(bool(), {
    default: false,
    option: { kind: 'switch', flag: '--check', order: 200, help: 'run the translation checker (shadow vs guest page tables)' },
  }),
  /** iomix: disk reads per token pass. */
  io: field(ints(0, 64), {
    default: 0,
    appliesTo: { workloads: ['iomix'] },
    option: { kind: 'int', flag: '--io', order: 160, help: 'iomix: disk reads per token pass' },
  }),
  /**
   * Guest unix sockets' sk_sndbuf in bytes. The default is 2.6.20's sysctl_wmem_default,
   * SK_WMEM_MAX = (sizeof(struct sk_buff) + 256) * 256 (shared/guest-build.ts); hackbench
   * sets none. SO_SNDBUF cannot go below SOCK_MIN_SNDBUF (2048). Each write of up to 128
   * bytes is one skb charged SKB_DATA_ALIGN(len) + sizeof(struct sk_buff) = 304 bytes.
   */
  sndbuf: field(ints(SOCK_MIN_SNDBUF, 4194304), {
    default: SK_WMEM_MAX,
    appliesTo: { workloads: ['hackbench'], when: { test: (cfg) => cfg.pipe !== true, applies: 'with unix sockets', not: 'with --pipe' } },
    option: { kind: 'int', flag: '--sndbuf', order: 170, help: `unix socket send buffer in bytes (2.6.20's default: ${SK_WMEM_MAX})` },
  }),
  /**
   * The guest's clocksource, read once a tick by update_wall_time (kernel/timer.c). 2.6.20
   * picks the highest rating (kernel/time/clocksource.c): the TSC (300) unless it is marked
   * unstable, before acpi_pm (200; 110 with the verified read QEMU's PIIX4 PM forces) and
   * the PIT (110, registered on one CPU only). Under KVM RDTSC does not exit and nothing
   * marks the TSC unstable, so a guest of the time ran on the TSC; 'pit' and 'acpi_pm' are
   * what a guest booted with clocksource= (or with an unstable TSC) reads.
   */
  clocksource: field(oneOf(['tsc', 'acpi_pm', 'pit'] as const), {
    default: 'tsc',
    option: {
      kind: 'choice',
      flag: '--clocksource',
      order: 175,
      arg: '<name>',
      help: "the guest's clocksource, read every tick (tsc: no port I/O; acpi_pm: 3 port reads; pit: 3 port accesses and 3 io delays)",
      listHelp: "the guest's clocksources",
    },
  }),
  /**
   * The ablation of the patch's author: an artificial flush after every switch_to() in the
   * guest, __flush_tlb_global() ('global'), or that and a __flush_tlb() as well ('both'),
   * to measure what losing the global (kernel) TLB entries at every switch costs.
   */
  extraFlush: field(oneOf(['none', 'global', 'both'] as const), {
    default: 'none',
    option: {
      kind: 'choice',
      flag: '--extra-flush',
      order: 185,
      arg: '<what>',
      help: 'an extra TLB flush after every context switch: global (__flush_tlb_global) or both (and __flush_tlb)',
      listHelp: 'extra TLB flushes after every context switch',
    },
  }),
  /**
   * trace: the recorded scheduler trace to replay (shared/trace/parse.ts reads ftrace,
   * trace-cmd report and perf sched script text, gzip accepted).
   */
  trace: field({ schema: memo(() => zod().string().max(4096)), allowed: 'a path to a trace file' }, {
    default: '',
    appliesTo: { workloads: ['trace'] },
    option: { kind: 'text', flag: '--trace', order: 210, arg: '<file>', help: 'trace: the recorded scheduler trace to replay (ftrace, trace-cmd report or perf sched script text; gzip)' },
  }),
  /** The sha256 of the trace file's bytes, filled in when the config resolves: the store key follows the file. */
  traceSha256: field({ schema: memo(() => zod().string().regex(/^(?:[0-9a-f]{64})?$/)), allowed: "the sha256 of the trace file's bytes (64 hex digits), filled in from the file" }, {
    default: '',
    appliesTo: { workloads: ['trace'] },
  }),
  /** trace: the trace's CPUs to replay, one vCPU each (empty: all). */
  traceCpus: field({ schema: memo(() => zod().string().regex(/^(?:\d{1,4}(?:,\d{1,4})*)?$/)), allowed: 'a comma list of CPU numbers of the trace' }, {
    default: '',
    appliesTo: { workloads: ['trace'] },
    option: { kind: 'text', flag: '--cpus', order: 212, arg: '<list>', help: "trace: the trace's CPUs to replay, one vCPU each (default: all)" },
  }),
  /** trace: the recorded time a task ran between two switches becomes user time x this. */
  timeScale: field({ schema: memo(() => zod().number().positive().max(1000)), allowed: 'a number above 0, at most 1000' }, {
    default: 1,
    appliesTo: { workloads: ['trace'] },
    option: { kind: 'number', flag: '--time-scale', order: 215, help: 'trace: recorded run time between switches x this becomes guest user time (default 1)' },
  }),
  /**
   * The guest's paging: 'i386', the 32-bit two-level paging of the study's 2.6.20 guest
   * (the 2007 modes run no other); 'x86-64', four-level paging, as every guest that can
   * use PCID, KPTI or KVM's previous roots has it (the modern modes' default).
   */
  arch: field(oneOf(ARCHES), {
    default: 'i386',
    defaultOf: (cfg) => (isModern(cfg) ? 'x86-64' : 'i386'),
    option: { kind: 'choice', flag: '--arch', order: 220, arg: '<arch>', help: "the guest's paging: i386 (two levels, the study's guest) or x86-64 (four levels)", listHelp: 'guest paging' },
  }),
  /** Page-table isolation in the guest (Linux 4.15, CONFIG_PAGE_TABLE_ISOLATION): two page directories per process, a cr3 switch at every kernel entry and exit. */
  kpti: field(bool(), {
    default: false,
    appliesTo: { when: { test: is64, applies: 'to x86-64 guests (--arch x86-64)', not: 'with an i386 guest (PTI needs 64-bit or PAE paging)' } },
    option: { kind: 'switch', flag: '--kpti', order: 230, help: 'x86-64 guest: page-table isolation (a kernel and a user page directory per process)' },
  }),
  /** The guest uses PCID (Linux 4.14 arch/x86/mm/tlb.c: six ASIDs per CPU): its default where the profile's CPU has it. */
  pcid: field(bool(), {
    default: false,
    defaultOf: (cfg) => is64(cfg) && profileHas(cfg, 'pcid'),
    appliesTo: { when: { test: is64, applies: 'to x86-64 guests (--arch x86-64)', not: 'with an i386 guest (PCID is for 64-bit mode only)' } },
    option: { kind: 'switch', flag: '--pcid', order: 240, negatable: true, help: 'x86-64 guest: PCID, six ASIDs per CPU (default: where the profile has it; --no-pcid: off)' },
  }),
  /** Tagged TLB entries per guest (VPID, AMD's ASID): VM exit and entry keep the TLB. Its default where the profile's CPU has it. */
  vpid: field(bool(), {
    default: false,
    defaultOf: (cfg) => profileHas(cfg, 'vpid'),
    appliesTo: { modes: ['kvm-ept', 'kvm-shadow'] },
    option: { kind: 'switch', flag: '--vpid', order: 250, negatable: true, help: 'kvm-ept, kvm-shadow: VPID/ASID, exits keep the TLB (default: where the profile has it; --no-vpid: off)' },
  }),
  /** KVM_MMU_NUM_PREV_ROOTS: previous shadow roots kept beside the current one (3 since 2018). */
  prevRoots: field(ints(0, 64), {
    default: 3,
    appliesTo: { modes: modesWith((t) => t.shadow === 'prev-roots') },
    option: { kind: 'int', flag: '--prev-roots', order: 260, help: 'kvm-shadow, kvm-shadow-pv: previous roots cached (KVM_MMU_NUM_PREV_ROOTS)', showDefault: true },
  }),
  /** Entries of each paging-structure cache (Intel SDM vol. 3 4.10.3; for EPT also of the guest-physical ones): 0 walks every level. */
  pwc: field(ints(0, 4096), {
    default: 32,
    appliesTo: { when: { test: (cfg) => is64(cfg) || MODE_TRAITS[cfg.mode as Mode]?.tdp === true, applies: 'to x86-64 guests and to kvm-ept', not: 'with an i386 guest off EPT (a walk there is one fixed cost)' } },
    option: { kind: 'int', flag: '--pwc', order: 270, help: 'entries of each paging-structure cache (0: every walk from the root)', showDefault: true },
  }),
  /** ctxswitch: KiB of its own memory each process touches every turn (lat_ctx -s). */
  size: field(ints(0, 65536), {
    default: 0,
    appliesTo: { workloads: ['ctxswitch'] },
    option: { kind: 'int', flag: '--size', order: 65, arg: '<KiB>', help: 'ctxswitch: KiB each process touches every turn (lat_ctx -s)' },
  }),
  /**
   * The i386 guest is a UP kernel with a local APIC (X86_UP_APIC; QEMU 0.8.2 always offers
   * one: cpu_x86_init's CPUID_APIC): APIC_init_uniprocessor starts the local APIC timer
   * beside IRQ0 (profile_tick on it, the rest of the tick on IRQ0), each of its ticks ending
   * in an EOI to the APIC, an MMIO exit to QEMU under the 2007 KVM.
   */
  lapicTimer: field(bool(), {
    default: false,
    appliesTo: { when: { test: (cfg) => cfg.arch !== 'x86-64', applies: 'to the i386 guest', not: 'with an x86-64 guest (its tick is the local APIC timer always)' } },
    option: { kind: 'switch', flag: '--lapic-timer', order: 178, help: 'i386 guest: a UP kernel with a local APIC, whose timer ticks beside IRQ0 (its EOI an MMIO exit under KVM)' },
  }),
  /** The host's speculation mitigations, where the profile gives costs both ways. */
  mitigations: field(bool(), {
    default: true,
    appliesTo: { when: { test: (cfg) => PROFILES[String(cfg.profile)] !== undefined && hasMitigationSwitch(PROFILES[String(cfg.profile)]!), applies: 'with a profile that gives costs without mitigations', not: 'with this profile (its sources give one figure)' } },
    option: { kind: 'switch', flag: '--no-mitigations', order: 280, help: 'the host without its speculation mitigations (where the profile gives both costs)' },
  }),
};

/** The guest architectures `mode` runs, for messages. */
export const archesOfMode = (mode: Mode): readonly string[] => archesOf(MODE_TRAITS[mode]);

/** The option a user types for a config field (`--cache-size`), or `--param <field>` for one without a flag of its own. */
export function flagOf(field: string): string {
  const spec = Object.hasOwn(FIELDS, field) ? (FIELDS as Record<string, FieldSpec>)[field] : undefined;
  return spec?.option?.flag ?? `--param ${field}`;
}
