/**
 * The five configurations, the workloads and the pinned-root variants, with what each
 * mode turns on. Kept apart from the config schema so the simulation (and its worker
 * threads) loads no validation library.
 */
export const MODES = ['native', 'qemu', 'kvm-upstream', 'kvm-trunk', 'kvm-paravirt'] as const;
export type Mode = (typeof MODES)[number];

export const PINNED_ROOT_FIXES = ['none', 'unpin-on-write', 'hypercall'] as const;
export type PinnedRootFix = (typeof PINNED_ROOT_FIXES)[number];

export const WORKLOADS = ['ctxswitch', 'pipe', 'hackbench', 'idle', 'pgdreuse', 'iomix', 'trace'] as const;
export type Workload = (typeof WORKLOADS)[number];

/** What each mode turns on. The modes are described in the README's model section. */
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

export const MODE_TRAITS: Readonly<Record<Mode, ModeTraits>> = {
  native: { vmx: false, emulated: false, shadow: 'none', paravirt: false },
  qemu: { vmx: false, emulated: true, shadow: 'none', paravirt: false },
  'kvm-upstream': { vmx: true, emulated: false, shadow: 'discard', paravirt: false },
  'kvm-trunk': { vmx: true, emulated: false, shadow: 'cached', paravirt: false },
  'kvm-paravirt': { vmx: true, emulated: false, shadow: 'cached', paravirt: true },
};

