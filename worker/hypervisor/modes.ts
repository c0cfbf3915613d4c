/**
 * The mode registry: what each configuration builds. A mode gives the TLB geometry its
 * vCPUs show the guest (the hardware's TLB, or QEMU's soft TLB), how many CR3-target
 * values their VMCS holds, and its platform. KVM's modes are the VMX exit layer
 * (kvm/kvm.ts) composed with an MMU strategy: today shadow paging in its two flavours;
 * an EPT/NPT mode would be a new entry composing another strategy.
 */
import type { SimConfig } from '../../shared/config.js';
import type { Costs } from '../../shared/costs.js';
import type { Mode } from '../../shared/modes.js';
import type { StatsRegistry } from '../../shared/stats.js';
import type { GuestMemory } from '../machine/memory.js';
import type { Vcpu } from '../machine/vcpu.js';
import { KvmPlatform } from './kvm/kvm.js';
import { ShadowMmu } from './kvm/shadow/shadow-mmu.js';
import { VmExits } from './kvm/vmexit.js';
import { NativePlatform } from './native.js';
import type { Platform } from './platform.js';
import { QemuPlatform } from './qemu.js';
import { QEMU_RTC_FREQ } from './qemu-alarm.js';

/** What a mode's platform is built from. */
export interface PlatformContext {
  readonly cfg: SimConfig;
  readonly c: Costs;
  readonly mem: GuestMemory;
  readonly vcpus: readonly Vcpu[];
  readonly stats: StatsRegistry;
  /** The vCPUs this replica runs (all if absent): the others' per-vCPU pools are not built here. */
  readonly local?: readonly number[];
}

export interface ModeEntry {
  /** TLB entries and ways of each vCPU. */
  tlb(c: Costs): { readonly entries: number; readonly ways: number };
  /** CR3-target values of each vCPU's VMCS. */
  cr3Targets(cfg: SimConfig): number;
  /** The rate of QEMU's host alarm (qemu-alarm.ts) in the modes QEMU hosts; 0 on hardware. */
  hostAlarmHz: number;
  build(ctx: PlatformContext): Platform;
}

const hardwareTlb = (c: Costs) => ({ entries: c.tlbEntries, ways: c.tlbWays });

function kvm(flavour: 'discard' | 'cached', paravirt: boolean): ModeEntry {
  return {
    tlb: hardwareTlb,
    // A cr3 cache larger than Core 2's 4 target values is hypothetical hardware with as many.
    cr3Targets: (cfg) => (paravirt ? cfg.cacheSize : 0),
    hostAlarmHz: QEMU_RTC_FREQ,
    build: ({ cfg, c, mem, vcpus, stats, local }) => {
      const exits = new VmExits(c, cfg.exitFlush);
      const mmu = new ShadowMmu(mem, c, exits, vcpus, stats, { flavour, paravirt, pinnedRootFix: cfg.pinnedRootFix, mmuPages: cfg.mmuPages, local });
      return new KvmPlatform(c, exits, mmu);
    },
  };
}

export const MODE_REGISTRY: Readonly<Record<Mode, ModeEntry>> = {
  native: { tlb: hardwareTlb, cr3Targets: () => 0, hostAlarmHz: 0, build: ({ c, mem }) => new NativePlatform(mem, c) },
  qemu: {
    tlb: (c) => ({ entries: c.qemuSoftTlbEntries, ways: 1 }),
    cr3Targets: () => 0,
    hostAlarmHz: QEMU_RTC_FREQ,
    build: ({ c, mem }) => new QemuPlatform(mem, c),
  },
  'kvm-upstream': kvm('discard', false),
  'kvm-trunk': kvm('cached', false),
  'kvm-paravirt': kvm('cached', true),
};
