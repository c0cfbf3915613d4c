/**
 * One shadow MMU kept as one shard per vCPU, so that vCPUs can run apart within a
 * quantum: a vCPU builds, finds and evicts shadow pages in its own shard only. What makes
 * the shards one MMU travels as records at the quantum's end:
 *  - which guest frames each shard shadows (M_SHADOWED): a frame shadowed by any vCPU is
 *    write-protected for all;
 *  - every emulated page-table write another shard shadows (M_PT_WRITE): the other shards
 *    drop or zap their shadow of it, as kvm_mmu_pte_write does for the one hash, and
 *    flush their TLB (KVM_REQ_TLB_FLUSH);
 *  - the cr3-cache drops of the pinned-root fixes (M_DROP_ROOT).
 * A frame two vCPUs use is shadowed twice, and each shard has the pool of `mmuPages`
 * pages. (KVM of 2007 had one hash per VM, but it ran no SMP guests.)
 */
import type { GuestMemory } from '../../../machine/memory.js';
import type { RecordBus } from '../../../smp/bus.js';
import { emitDropRoot, M_DROP_ROOT, readDropRoot, type DropRoot } from '../../../smp/records/drop-root.js';
import { emitPtWrite, M_PT_WRITE, readPtWrite, type PtWrite } from '../../../smp/records/pt-write.js';
import { emitShadowed, M_SHADOWED, readShadowed, type Shadowed } from '../../../smp/records/shadowed.js';
import type { Cr3CacheHost } from './cr3-cache.js';
import { PageHash } from './page-hash.js';
import { ShadowPages } from './pages.js';
import type { ShadowVcpu } from './shadow-vcpu.js';
import { LEVEL_PD } from './spte.js';

/** Is frame `f` in a shard's published set: 0 or 1. */
const bitOf = (set: PageHash, f: number): number => (set.get(f) >= 0 ? 1 : 0);

export class ShardCoherence {
  /** How many shards shadowed each frame at the last quantum's end. */
  private readonly shadowedBy: Uint16Array;
  /**
   * Shadow pages of each frame in the shards this replica runs, as of now: a write or a
   * root drop another vCPU made to a frame none of them shadows needs no visit of each
   * shard (a shard that does not shadow the frame ignores it).
   */
  private readonly frameUse: Uint16Array;
  /**
   * The frames each vCPU's shard published as shadowed: a set of at most the pool's
   * size (a shard shadows no more frames than it has pages), not a bit per guest frame.
   */
  private readonly published: PageHash[];
  private readonly pt: PtWrite = { frame: 0, index: 0, value: 0, flooded: 0 };
  private readonly sh: Shadowed = { frame: 0, delta: 0 };
  private readonly dr: DropRoot = { frame: 0 };

  /**
   * @param skipCachePinned the posted patch: writes to a root the cr3 cache pins leave it as it is
   * @param discard kvm-upstream: nothing is write-protected, so nothing to publish
   */
  constructor(
    readonly bus: RecordBus,
    private readonly mem: GuestMemory,
    private readonly cpus: readonly ShadowVcpu[],
    private readonly cache: Cr3CacheHost | null,
    private readonly skipCachePinned: boolean,
    private readonly discard: boolean,
  ) {
    const frames = mem.numFrames;
    this.shadowedBy = new Uint16Array(frames);
    this.frameUse = new Uint16Array(frames);
    for (const s of cpus) this.useFrames(s.pages);
    this.published = cpus.map((s) => new PageHash(s.pages.capacity));
    if (!discard) {
      for (const s of cpus) {
        const pages = s.pages;
        pages.trackShadowed();
        const pub = this.published[s.v.id]!;
        for (let sp = 0; sp < pages.capacity; sp++) {
          const f = pages.gfn[sp]!;
          if (f < 0 || bitOf(pub, f) === 1) continue;
          pub.set(f, 1);
          this.shadowedBy[f]!++;
        }
      }
    }
    bus.atQuantumEnd((cpu) => this.publish(cpu));
    // A vCPU another replica runs from now on: its shard here is never read again.
    bus.onDropVcpu((cpu) => {
      const s = this.cpus[cpu]!;
      const old = s.pages;
      for (let sp = 0; sp < old.capacity; sp++) if (old.gfn[sp]! >= 0) this.frameUse[old.gfn[sp]!]!--;
      s.pages = new ShadowPages(0, old.stat); // never read again: no pool here
      s.pages.frameUse = this.frameUse;
      this.published[cpu] = new PageHash(0);
    });
    bus.on(M_SHADOWED, (d, at) => {
      const r = readShadowed(d, at, this.sh);
      this.shadowedBy[r.frame]! += r.delta;
    });
    bus.on(M_PT_WRITE, (d, at, src) => this.remotePtWrite(readPtWrite(d, at, this.pt), src));
    bus.on(M_DROP_ROOT, (d, at, src) => this.remoteDropRoot(readDropRoot(d, at, this.dr).frame, src));
  }

  /** Count `pages`' frames in frameUse, and keep them counted. */
  private useFrames(pages: ShadowPages): void {
    for (let sp = 0; sp < pages.capacity; sp++) if (pages.gfn[sp]! >= 0) this.frameUse[pages.gfn[sp]!]!++;
    pages.frameUse = this.frameUse;
  }

  /** Does a shard other than cpu's shadow `frame` (as of the last quantum's end)? */
  othersShadow(cpu: number, frame: number): boolean {
    return this.shadowedBy[frame]! - bitOf(this.published[cpu]!, frame) > 0;
  }

  /** At a quantum's end: tell the others which frames cpu's shard began or stopped shadowing. */
  private publish(cpu: number): void {
    if (this.discard) return;
    const s = this.cpus[cpu]!;
    const pages = s.pages;
    const pub = this.published[cpu]!;
    const list = pages.changedGfns;
    for (let i = 0; i < pages.nChanged; i++) {
      const f = list[i]!;
      const now = pages.isShadowed(f) ? 1 : 0;
      const was = bitOf(pub, f);
      if (now === was) continue;
      emitShadowed(this.bus, s.v, f, now - was);
      if (now === 1) pub.set(f, 1);
      else pub.delete(f);
    }
    pages.clearChanged();
  }

  /** s's emulated write of entry `index` of `frame` (`flooded` as s's detector found it), for the other shards. */
  sendPtWrite(s: ShadowVcpu, frame: number, index: number, flooded: boolean): void {
    emitPtWrite(this.bus, s.v, frame, index, this.mem.readEntry(frame, index), flooded ? 1 : 0);
  }

  /** Drop the cache entries of the root shadowing `frame` on the other vCPUs too. */
  sendDropRoot(s: ShadowVcpu, frame: number): void {
    emitDropRoot(this.bus, s.v, frame);
  }

  private remotePtWrite(r: PtWrite, src: number): void {
    if (this.mem.hasContents(r.frame)) this.mem.writeEntry(r.frame, r.index, r.value);
    if (this.frameUse[r.frame] === 0) return;
    for (const id of this.bus.localIds) {
      if (id === src) continue;
      const s = this.cpus[id]!;
      if (s.pages.remotePteWrite(r.frame, r.index, r.flooded !== 0, this.skipCachePinned)) s.v.tlb.flushAll(); // KVM_REQ_TLB_FLUSH
    }
  }

  private remoteDropRoot(frame: number, src: number): void {
    if (this.frameUse[frame] === 0) return;
    for (const id of this.bus.localIds) {
      if (id === src) continue;
      const s = this.cpus[id]!;
      const root = s.pages.find(frame, LEVEL_PD, 0);
      if (root >= 0 && s.pages.cachePinned(root)) this.cache!.drop(s, root);
    }
  }
}
