/**
 * What a mode builds, composed from its traits (shared/modes.ts, where each mode is
 * declared once): the TLB geometry its vCPUs show the guest (the hardware's, with its
 * second level on a core of today, or QEMU's soft TLB), how many CR3-target values their
 * VMCS holds, the rate of QEMU's host alarm, the page walker of a core of today, and its
 * platform. KVM's modes are an exit layer (kvm/kvm.ts for 2007, kvm/modern.ts for today)
 * composed with an MMU strategy: shadow paging of 2007 (kvm/shadow/), two-dimensional
 * paging (kvm/tdp/), or today's shadow MMU with previous roots (kvm/mmu/), PVM's PV ops
 * on top of it for kvm-shadow-pv.
 */
import type { SimConfig } from '../../shared/config.js';
import type { Costs } from '../../shared/costs.js';
import type { ModeTraits } from '../../shared/modes.js';
import type { StatsRegistry } from '../../shared/stats.js';
import type { GuestMemory } from '../machine/memory.js';
import type { Vcpu } from '../machine/vcpu.js';
import { KvmPlatform } from './kvm/kvm.js';
import { ModernKvmPlatform } from './kvm/modern.js';
import { PrevRootsMmu } from './kvm/mmu/shadow-mmu.js';
import { Pvm } from './kvm/mmu/pvm.js';
import { ShadowMmu } from './kvm/shadow/shadow-mmu.js';
import { TdpMmu } from './kvm/tdp/tdp-mmu.js';
import { VmExits } from './kvm/vmexit.js';
import { NativeMmu, NativeMmu64, NativePlatform } from './native.js';
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
  /** The second TLB level of a core of today (the STLB), or null. */
  readonly stlb: { readonly entries: number; readonly ways: number; readonly hit: number } | null;
  /** The page walker of a core of today (machine/walker.ts): the guest's levels and the host's under EPT; null for the 2007 model's fixed-cost walk. */
  readonly walker: { readonly levels: number; readonly hostLevels: number; readonly entries: number } | null;
  /** CR3-target values of each vCPU's VMCS. */
  readonly cr3Targets: number;
  /** The rate of QEMU's host alarm (qemu-alarm.ts) in the modes QEMU hosts; 0 on hardware. */
  readonly hostAlarmHz: number;
  build(ctx: PlatformContext): Platform;
}

/** The entry of a mode with these traits, for this config and these costs. */
export function modeEntry(t: ModeTraits, cfg: SimConfig, c: Costs): ModeEntry {
  if (t.emulated) {
    return { tlb: { entries: c.qemuSoftTlbEntries, ways: 1 }, stlb: null, walker: null, cr3Targets: 0, hostAlarmHz: QEMU_RTC_FREQ, build: ({ mem }) => new QemuPlatform(mem, c) };
  }
  const tlb = { entries: c.tlbEntries, ways: c.tlbWays };
  // The walker model (and the STLB it sits behind) is that of a core of today: an x86-64 guest's, or any guest's under EPT.
  const today = cfg.arch === 'x86-64' || t.tdp;
  const stlb = today && c.stlbEntries > 0 ? { entries: c.stlbEntries, ways: c.stlbWays, hit: c.stlbHit } : null;
  const walker = today ? { levels: cfg.arch === 'x86-64' ? 4 : 2, hostLevels: t.tdp ? 4 : 0, entries: cfg.pwc } : null;
  if (!t.vmx) {
    return {
      tlb,
      stlb,
      walker,
      cr3Targets: 0,
      hostAlarmHz: 0,
      build: (ctx) => new NativePlatform(c, cfg.arch === 'x86-64' ? new NativeMmu64(ctx.mem, c) : new NativeMmu(ctx.mem, c)),
    };
  }
  if (t.modern) {
    return {
      tlb,
      stlb,
      walker,
      cr3Targets: 0,
      hostAlarmHz: 0,
      build: (ctx) => {
        // PVM tags the TLB by host PCID per root instead of VPID (mmu/pvm.ts): exits keep it.
        const exits = new VmExits(c, !(cfg.vpid || t.pvm));
        if (t.tdp) return new ModernKvmPlatform(c, exits, new TdpMmu(ctx.mem, c, exits, cfg.arch, cfg.memoryMiB * 256), null);
        const mmu = new PrevRootsMmu(ctx.mem, c, exits, ctx.vcpus, ctx.stats, { prevRoots: cfg.prevRoots, mmuPages: cfg.mmuPages, pvm: t.pvm });
        return new ModernKvmPlatform(c, exits, mmu, t.pvm ? new Pvm(mmu, exits, c) : null);
      },
    };
  }
  const flavour = t.shadow === 'discard' ? 'discard' : 'cached';
  return {
    tlb,
    stlb: null,
    walker: null,
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
