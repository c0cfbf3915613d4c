/**
 * The configurations (modes), the workloads and the pinned-root variants. Each mode is
 * declared once, in MODE_TRAITS: what it turns on is all the simulator needs to build it
 * (worker/hypervisor/modes.ts composes its platform from these traits), and what the
 * config fields' scopes are read from. Kept apart from the config schema so the
 * simulation (and its worker threads) loads no validation library.
 */
export const PINNED_ROOT_FIXES = ['none', 'unpin-on-write', 'hypercall'] as const;
export type PinnedRootFix = (typeof PINNED_ROOT_FIXES)[number];

export const WORKLOADS = ['ctxswitch', 'pipe', 'hackbench', 'idle', 'pgdreuse', 'iomix', 'trace', 'syscall', 'pagefault', 'fork'] as const;
export type Workload = (typeof WORKLOADS)[number];

/** What each mode turns on. The modes are described in docs/model.md and docs/modern.md. */
export interface ModeTraits {
  /** Guest runs deprivileged under KVM: privileged events exit to the host. */
  readonly vmx: boolean;
  /** Guest runs under QEMU's dynamic translator with a soft MMU. */
  readonly emulated: boolean;
  /**
   * Shadow paging flavour: 'discard' drops all shadow tables on a cr3 load, 'cached' keeps
   * them (KVM of early 2007); 'prev-roots' is KVM's shadow MMU since 2018, a current root
   * and N previous ones (arch/x86/kvm/mmu/mmu.c kvm_mmu_new_pgd).
   */
  readonly shadow: 'none' | 'discard' | 'cached' | 'prev-roots';
  /** The 2007 paravirt patch: cr3 cache, exit-free io delay, simplified PIC ack, no cr3 read on TLB flush. */
  readonly paravirt: boolean;
  /** Two-dimensional paging (EPT/NPT): the hardware walks the guest's tables and the host's. */
  readonly tdp: boolean;
  /** cr3 loads, TLB flushes and user/kernel switches by hypercall and switcher, as PVM does them (2024). */
  readonly pvm: boolean;
  /**
   * KVM of today rather than of January 2007: in-kernel local APIC (its timer, posted
   * interrupts) and PIC/PIT, VPID, a 64-bit-capable guest; no QEMU alarm kicking the vCPU.
   */
  readonly modern: boolean;
}

const TABLE = {
  native: { vmx: false, emulated: false, shadow: 'none', paravirt: false, tdp: false, pvm: false, modern: false },
  qemu: { vmx: false, emulated: true, shadow: 'none', paravirt: false, tdp: false, pvm: false, modern: false },
  'kvm-upstream': { vmx: true, emulated: false, shadow: 'discard', paravirt: false, tdp: false, pvm: false, modern: false },
  'kvm-trunk': { vmx: true, emulated: false, shadow: 'cached', paravirt: false, tdp: false, pvm: false, modern: false },
  'kvm-paravirt': { vmx: true, emulated: false, shadow: 'cached', paravirt: true, tdp: false, pvm: false, modern: false },
  'kvm-ept': { vmx: true, emulated: false, shadow: 'none', paravirt: false, tdp: true, pvm: false, modern: true },
  'kvm-shadow': { vmx: true, emulated: false, shadow: 'prev-roots', paravirt: false, tdp: false, pvm: false, modern: true },
  'kvm-shadow-pv': { vmx: true, emulated: false, shadow: 'prev-roots', paravirt: false, tdp: false, pvm: true, modern: true },
} as const satisfies Record<string, ModeTraits>;

export type Mode = keyof typeof TABLE;

/** Every mode, declared once: what it turns on. */
export const MODE_TRAITS: Readonly<Record<Mode, ModeTraits>> = TABLE;

/** The modes, in the order of the table (reports and plots list them in it). */
export const MODES = Object.keys(TABLE) as [Mode, ...Mode[]];

/** The modes of January 2007 (the study's five), whose guest is 32-bit 2.6.20. */
export const MODES_2007 = MODES.filter((m) => !MODE_TRAITS[m].modern);

/** Guest paging: 32-bit two-level (2.6.20 i386, no PAE), or x86-64 four-level. */
export const ARCHES = ['i386', 'x86-64'] as const;
export type Arch = (typeof ARCHES)[number];

/** The guest architectures a mode runs: the 2007 modes model 32-bit guests; KVM caches previous roots only for 64-bit ones. */
export function archesOf(t: ModeTraits): readonly Arch[] {
  if (!t.modern) return t.vmx || t.emulated ? ['i386'] : ARCHES;
  return t.shadow === 'prev-roots' ? ['x86-64'] : ARCHES;
}

