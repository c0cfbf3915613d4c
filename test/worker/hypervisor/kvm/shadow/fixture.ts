import { CORE2_2007, costValues } from '../../../../../shared/costs.js';
import { Rng } from '../../../../../shared/rng.js';
import { StatsRegistry } from '../../../../../shared/stats.js';
import { PageAllocator } from '../../../../../worker/guest/mm/page-alloc.js';
import { ShadowMmu } from '../../../../../worker/hypervisor/kvm/shadow/shadow-mmu.js';
import { VmExits } from '../../../../../worker/hypervisor/kvm/vmexit.js';
import { ParaState } from '../../../../../worker/hypervisor/kvm-para.js';
import { GuestMemory } from '../../../../../worker/machine/memory.js';
import { PTE_A, PTE_D, PTE_G, PTE_P, PTE_RW, PTE_US } from '../../../../../worker/machine/paging.js';
import { Vcpu } from '../../../../../worker/machine/vcpu.js';

export const USER_VPN = 0x08048;

/** A tiny guest: page directories each mapping USER_VPN through their own page table. */
export function tinyGuest(opts: { shadow: 'discard' | 'cached'; paravirt?: boolean; cacheSize?: number; mmuPages?: number }) {
  const c = costValues(CORE2_2007);
  const mem = new GuestMemory(8192);
  const pages = new PageAllocator(mem, 16, new Rng(1));
  const stats = new StatsRegistry();
  const paravirt = opts.paravirt ?? false;
  const cacheSize = opts.cacheSize ?? 4;
  const v = new Vcpu(0, 256, 4, paravirt ? cacheSize : 0, stats.vcpu(0).tlb);
  const exits = new VmExits(c, true);
  const shadow = new ShadowMmu(mem, c, exits, [v], stats, { flavour: opts.shadow, paravirt, pinnedRootFix: 'none', mmuPages: opts.mmuPages ?? 256 });
  // What the guest's paging calls: the MMU strategy itself.
  const platform = shadow;
  const para = paravirt ? new ParaState(cacheSize, stats.vcpu(0).cr3Cache) : null;
  if (para) platform.registerParaState(v, para);
  const state = shadow.state(v);
  const newAddressSpace = () => {
    const pd = pages.allocPageTable();
    const pt = pages.allocPageTable();
    mem.writeEntry(pd, USER_VPN >>> 10, (pt << 12) | PTE_P | PTE_RW | PTE_US | PTE_A);
    mem.writeEntry(pt, USER_VPN & 1023, (pages.allocFrame() << 12) | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D);
    return { pd, pt };
  };
  /** A kernel page table shared by the directories `pds`, mapping `vpn` global; its frame. */
  const kernelTable = (vpn: number, pds: number[]) => {
    const pt = pages.allocPageTable();
    for (const pd of pds) mem.writeEntry(pd, vpn >>> 10, (pt << 12) | PTE_P | PTE_RW | PTE_A);
    mem.writeEntry(pt, vpn & 1023, (pages.allocFrame() << 12) | PTE_P | PTE_RW | PTE_A | PTE_D | PTE_G);
    return pt;
  };
  /** A guest access to a page, through the TLB. */
  const touch = (vpn: number) => {
    if (!v.tlb.lookup(vpn)) platform.tlbMiss(v, vpn, false);
  };
  const exits_ = (reason: number) => v.vmx.exitCount[reason]!;
  return { c, mem, mmu: state.pages, platform, v, para, state, newAddressSpace, kernelTable, touch, exits: exits_ };
}
