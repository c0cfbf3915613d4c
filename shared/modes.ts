/**
 * The configurations (modes), the workloads and the pinned-root variants. Each mode is
 * declared once, in MODE_TRAITS: what it turns on is all the simulator needs to build it
 * (worker/hypervisor/modes.ts composes its platform from these traits), and what the
 * config fields' scopes are read from. Kept apart from the config schema so the
 * simulation (and its worker threads) loads no validation library.
 */
export const PINNED_ROOT_FIXES = ['none', 'unpin-on-write', 'hypercall'] as const;
export type PinnedRootFix = (typeof PINNED_ROOT_FIXES)[number];

export const WORKLOADS = ['ctxswitch', 'pipe', 'hackbench', 'idle', 'pgdreuse', 'iomix', 'trace'] as const;
export type Workload = (typeof WORKLOADS)[number];

/** What each mode turns on. The modes are described in docs/model.md. */
export interface ModeTraits {
  /** Guest runs in VMX non-root mode: privileged events exit to the host. */
  readonly vmx: boolean;
  /** Guest runs under QEMU's dynamic translator with a soft MMU. */
  readonly emulated: boolean;
  /** Shadow paging flavour: 'discard' drops all shadow tables on a cr3 load, 'cached' keeps them. */
  readonly shadow: 'none' | 'discard' | 'cached';
  /** The paravirt patch: cr3 cache, exit-free io delay, simplified PIC ack, no cr3 read on TLB flush. */
  readonly paravirt: boolean;
}

const TABLE = {
  native: { vmx: false, emulated: false, shadow: 'none', paravirt: false },
  qemu: { vmx: false, emulated: true, shadow: 'none', paravirt: false },
  'kvm-upstream': { vmx: true, emulated: false, shadow: 'discard', paravirt: false },
  'kvm-trunk': { vmx: true, emulated: false, shadow: 'cached', paravirt: false },
  'kvm-paravirt': { vmx: true, emulated: false, shadow: 'cached', paravirt: true },
} as const satisfies Record<string, ModeTraits>;

export type Mode = keyof typeof TABLE;

/** Every mode, declared once: what it turns on. */
export const MODE_TRAITS: Readonly<Record<Mode, ModeTraits>> = TABLE;

/** The modes, in the order of the table (reports and plots list them in it). */
export const MODES = Object.keys(TABLE) as [Mode, ...Mode[]];

