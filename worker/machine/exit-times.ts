/**
 * The time of each VM exit, kept as `perf kvm stat` keeps it from the kvm_exit and
 * kvm_entry tracepoints (tools/perf/builtin-kvm.c, handle_end_event → update_stats):
 * streaming moments per exit reason, per I/O port and direction (the `ioport` event:
 * kvm_pio's port and rw), and for HLT the span from the exit to the next entry, the
 * halted interval and the wake-up path included, as perf times it. Beside them, two
 * counters KVM's debugfs shows that the exit counts do not give: tlb_flush (the flush
 * requests of the handlers, kvm_mmu_flush_tlb) and signal_exits (a kick-out that returns
 * KVM_RUN to QEMU with -EINTR). Typed arrays only; nothing is allocated per exit.
 */
import { EXIT_REASON_SLOTS } from '../../shared/exits.js';
import type { ExitTimesSnapshot, PortMoments } from '../../shared/exit-detail.js';
import { addSample, MOMENT_WORDS, type Moments } from '../../shared/welford.js';

/** Direction of a port access, as kvm_pio's `rw` (perf prints 1 as POUT, 0 as PIN). */
export const PIO_IN = 0;
export const PIO_OUT = 1;

/** Distinct ports one vCPU may touch (the PC's devices decode about twenty). */
const MAX_PORTS = 255;

const slice = (a: Float64Array, o: number): Moments => Array.from(a.subarray(o, o + MOMENT_WORDS)) as Moments;

export class ExitTimes {
  /** Per exit reason: the cost each exit was charged (exit, KVM's path, handler, entry). */
  readonly reasons = new Float64Array(EXIT_REASON_SLOTS * MOMENT_WORDS);
  /** HLT from its exit to the next entry (perf's time of an HLT exit). */
  readonly hltEntry = new Float64Array(MOMENT_WORDS);
  /** Port access series, slot s and direction rw at (2s + rw) * MOMENT_WORDS (grows with the ports seen). */
  private ports = new Float64Array(8 * 2 * MOMENT_WORDS);
  /** The port of each slot, in the order first accessed. */
  private slotPort = new Int32Array(8);
  private portCount = 0;
  /** The slot of the last port accessed (a guest's port I/O comes in runs on one port). */
  private lastSlot = 0;
  tlbFlush = 0;
  signalExits = 0;
  /** Cycle at which the open HLT exit began, -1 if the vCPU is not in one. */
  hltFrom = -1;

  exit(reason: number, cycles: number): void {
    addSample(this.reasons, reason * MOMENT_WORDS, cycles);
  }

  /** An IO_INSTRUCTION exit on `port` in direction `rw`, charged `cycles`. */
  port(port: number, rw: number, cycles: number): void {
    const s = this.slotOf(port); // first: it may grow `ports`
    addSample(this.ports, (2 * s + rw) * MOMENT_WORDS, cycles);
  }

  /** The slot of `port`, given one on its first access. */
  private slotOf(port: number): number {
    const sp = this.slotPort;
    if (this.lastSlot < this.portCount && sp[this.lastSlot] === port) return this.lastSlot;
    const n = this.portCount;
    for (let s = 0; s < n; s++) if (sp[s] === port) return (this.lastSlot = s);
    if (n === MAX_PORTS) throw new Error(`more than ${MAX_PORTS} I/O ports on one vCPU`);
    if (n === sp.length) {
      this.slotPort = new Int32Array(n * 2);
      this.slotPort.set(sp);
      const ports = new Float64Array(n * 4 * MOMENT_WORDS);
      ports.set(this.ports);
      this.ports = ports;
    }
    this.slotPort[n] = port;
    this.portCount = n + 1;
    return (this.lastSlot = n);
  }

  /** The vCPU enters the guest again at cycle `now`: an open HLT exit ends. */
  entry(now: number): void {
    if (this.hltFrom < 0) return;
    addSample(this.hltEntry, 0, now - this.hltFrom);
    this.hltFrom = -1;
  }

  /** The measured run starts: everything at zero; an HLT begun before is not timed (perf drops an entry without its exit). */
  reset(): void {
    this.reasons.fill(0);
    this.hltEntry.fill(0);
    this.ports.fill(0);
    this.tlbFlush = 0;
    this.signalExits = 0;
    this.hltFrom = -1;
  }

  /** A copy, ports in port order; an HLT still open is timed to `now` (the end of the measured run). */
  snapshot(now: number): ExitTimesSnapshot {
    const reasons: Moments[] = [];
    for (let r = 0; r < EXIT_REASON_SLOTS; r++) reasons.push(slice(this.reasons, r * MOMENT_WORDS));
    const hlt = Float64Array.from(this.hltEntry);
    if (this.hltFrom >= 0) addSample(hlt, 0, now - this.hltFrom);
    const ports: PortMoments[] = [];
    for (let s = 0; s < this.portCount; s++) {
      for (let rw = 0; rw < 2; rw++) {
        const m = slice(this.ports, (2 * s + rw) * MOMENT_WORDS);
        if (m[0] > 0) ports.push({ port: this.slotPort[s]!, rw, m });
      }
    }
    ports.sort((a, b) => a.port - b.port || a.rw - b.rw);
    return { reasons, hltEntry: slice(hlt, 0), ports, tlbFlush: this.tlbFlush, signalExits: this.signalExits };
  }
}
