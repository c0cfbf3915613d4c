import { describe, expect, it } from 'vitest';
import { SpteBlocks } from '../../../worker/hypervisor/kvm/spte-blocks.js';
import { Rng } from '../../../shared/rng.js';

describe('SpteBlocks', () => {
  it('reads what was written, -1 elsewhere, across growth of its storage and release of pages', () => {
    // 300 pages of 512 entries: up to 2,400 blocks, so the storage (64 blocks at first) doubles six times.
    const pages = 300;
    const per = 512;
    const blocks = new SpteBlocks(pages, per);
    const ref = new Map<number, number>();
    const rng = new Rng(3);
    for (let step = 0; step < 60000; step++) {
      const r = rng.below(100);
      if (r < 70) {
        const at = rng.below(pages * per);
        const v = rng.below(4) === 0 ? -1 : rng.below(1 << 30);
        blocks.set(at, v);
        if (v === -1) ref.delete(at);
        else ref.set(at, v);
      } else if (r < 72) {
        const page = rng.below(pages);
        blocks.release(page);
        for (const at of [...ref.keys()]) if (Math.floor(at / per) === page) ref.delete(at);
      } else {
        const at = rng.below(pages * per);
        expect(blocks.get(at)).toBe(ref.get(at) ?? -1);
      }
    }
    for (let at = 0; at < pages * per; at++) if (blocks.get(at) !== (ref.get(at) ?? -1)) expect.fail(`entry ${at}: ${blocks.get(at)}, expected ${ref.get(at) ?? -1}`);
    expect(ref.size).toBeGreaterThan(5000);
  });

  it("gives a released page's blocks back as -1 to the next page that takes one", () => {
    const blocks = new SpteBlocks(4, 512);
    for (let i = 0; i < 512; i++) blocks.set(i, i);
    blocks.release(0);
    blocks.set(512 + 5, 7);
    for (let i = 512; i < 1024; i++) expect(blocks.get(i)).toBe(i === 517 ? 7 : -1);
    for (let i = 0; i < 512; i++) expect(blocks.get(i)).toBe(-1);
  });
});
