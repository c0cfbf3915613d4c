/**
 * What a mode builds, composed from its traits (shared/modes.ts, where each mode is
 * declared once): the TLB geometry its vCPUs show the guest (the hardware's TLB, or
 * QEMU's soft TLB), how many CR3-target values their VMCS holds, the rate of QEMU's host
 * alarm, and its platform. KVM's modes are the VMX exit layer (kvm/kvm.ts) composed with
 * an MMU strategy: shadow paging in the flavour the traits name.
 */
import type { SimConfig } from '../../shared/config.js';
import type { Costs } from '../../shared/costs.js';
import type { ModeTraits } from '../../shared/modes.js';
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
  readonly tlb: { readonly entries: number; readonly ways: number };
  /** CR3-target values of each vCPU's VMCS. */
  readonly cr3Targets: number;
  /** The rate of QEMU's host alarm (qemu-alarm.ts) in the modes QEMU hosts; 0 on hardware. */
  readonly hostAlarmHz: number;
  build(ctx: PlatformContext): Platform;
}

/** The entry of a mode with these traits, for this config and these costs. */
export function modeEntry(t: ModeTraits, cfg: SimConfig, c: Costs): ModeEntry {
  if (t.emulated) {
    return { tlb: { entries: c.qemuSoftTlbEntries, ways: 1 }, cr3Targets: 0, hostAlarmHz: QEMU_RTC_FREQ, build: ({ mem }) => new QemuPlatform(mem, c) };
  }
  const tlb = { entries: c.tlbEntries, ways: c.tlbWays };
  if (!t.vmx || t.shadow === 'none') return { tlb, cr3Targets: 0, hostAlarmHz: 0, build: ({ mem }) => new NativePlatform(mem, c) };
  const flavour = t.shadow;
  return {
    tlb,
    // A cr3 cache larger than Core 2's 4 target values is hypothetical hardware with as many.
    cr3Targets: t.paravirt ? cfg.cacheSize : 0,
    hostAlarmHz: QEMU_RTC_FREQ,
    build: ({ mem, vcpus, stats, local }) => {
      const exits = new VmExits(c, cfg.exitFlush);
      const mmu = new ShadowMmu(mem, c, exits, vcpus, stats, { flavour, paravirt: t.paravirt, pinnedRootFix: cfg.pinnedRootFix, mmuPages: cfg.mmuPages, local });
      return new KvmPlatform(c, exits, mmu);
    },
  };
}
