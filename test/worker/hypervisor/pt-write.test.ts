/**
 * pgd_alloc writes its 224 kernel entries at once where no store traps, charging each the
 * MMU's ptWriteCycles (mm.ts cloneKernelHalf). That holds only if every MMU charges exactly
 * that for a store to a frame that is not write-protected, and nothing else: checked here in
 * every mode, on the frames of a guest that has run (page directories, page tables, and
 * frames that never held one).
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../shared/config.js';
import { MODE_TRAITS, MODES } from '../../../shared/modes.js';
import { Vm } from '../../../worker/vm.js';

/** What a store could count besides time: exits, the MMU's and the TLB's counters, the cr3 cache's. */
function counters(vm: Vm): unknown {
  const r = vm.result();
  return { exits: r.exits, mmu: r.mmu, tlb: r.tlb, cr3Cache: r.cr3Cache };
}

describe('MMU: an untrapped page-table store', () => {
  it.each(MODES)('%s: costs ptWriteCycles and changes nothing else that the statistics see', (mode) => {
    const modern = MODE_TRAITS[mode].modern;
    const vm = new Vm(resolveConfig({ mode, workload: 'hackbench', groups: 1, loops: 5, ...(modern ? { profile: 'skylake-sp-2017', arch: 'x86-64' as const, kpti: true } : {}) }));
    vm.run();
    const v = vm.pc.vcpus[0]!;
    const mmu = vm.platform.mmu;
    const mms = vm.kernel.mm.mms;
    const frames = [...mms.map((m) => m.pdFrame), ...mms.flatMap((m) => m.userPtFrames), ...mms.flatMap((m) => m.privateFrames), ...Array.from({ length: 64 }, (_, i) => 1000 + i)];
    let plain = 0;
    let trapped = 0;
    for (const f of frames) {
      if (mmu.isWriteProtected(v, f)) {
        trapped++;
        continue;
      }
      const before = counters(vm);
      const clock = v.clock;
      mmu.ptWrite(v, f, 1000);
      expect(v.clock).toBe(clock + mmu.ptWriteCycles(v)); // the very addition cloneKernelHalf makes
      expect(counters(vm)).toEqual(before);
      plain++;
    }
    expect(plain).toBeGreaterThan(3);
    // The shadow MMUs that keep shadow pages across cr3 loads protect some of these frames (kvm-upstream drops them at every load).
    const keeps = MODE_TRAITS[mode].shadow === 'cached' || MODE_TRAITS[mode].shadow === 'prev-roots';
    if (keeps) expect(trapped).toBeGreaterThan(0);
    else expect(trapped).toBe(0);
  });
});
