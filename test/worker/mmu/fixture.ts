import { CORE2_2007, costValues } from '../../../shared/costs.js';
import { GuestMemory, PTE_A, PTE_D, PTE_P, PTE_RW, PTE_US } from '../../../worker/memory.js';
import { ShadowMmu } from '../../../worker/mmu/shadow.js';
import { KvmPlatform } from '../../../worker/platform/kvm.js';
import { Rng } from '../../../worker/rng.js';
import { Vcpu } from '../../../worker/vcpu.js';

export const USER_VPN = 0x08048;

/** A tiny guest: page directories each mapping USER_VPN through their own page table. */
export function tinyGuest(opts: { shadow: 'discard' | 'cached'; paravirt?: boolean; cacheSize?: number; mmuPages?: number }) {
  const c = costValues(CORE2_2007);
  const mem = new GuestMemory(8192, 16, new Rng(1));
  const mmu = new ShadowMmu(opts.mmuPages ?? 256, mem.numFrames);
  const platform = new KvmPlatform(mem, c, { shadow: opts.shadow, paravirt: opts.paravirt ?? false, pinnedRootFix: 'none', exitFlush: true });
  const v = new Vcpu(0, 256, 4, opts.paravirt ? (opts.cacheSize ?? 4) : null);
  v.mmu = mmu;
  platform.attachVcpus([v]);
  const newAddressSpace = () => {
    const pd = mem.allocPageTable();
    const pt = mem.allocPageTable();
    mem.writeEntry(pd, USER_VPN >>> 10, (pt << 12) | PTE_P | PTE_RW | PTE_US | PTE_A);
    mem.writeEntry(pt, USER_VPN & 1023, (mem.allocFrame() << 12) | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D);
    return { pd, pt };
  };
  /** A guest access to a page, through the TLB. */
  const touch = (vpn: number) => {
    if (!v.tlb.lookup(vpn)) platform.tlbMiss(v, vpn, false);
  };
  const exits = (reason: number) => v.vmx.exitCount[reason]!;
  return { c, mem, mmu, platform, v, newAddressSpace, touch, exits };
}
