/**
 * The per-vCPU VMX state that matters here (Intel SDM vol. 3, ch. 24-27): the exit
 * counters by basic exit reason, and the CR3-target list: a guest mov to cr3 whose
 * value equals one of CR3_TARGET_VALUE0..n-1 does not cause a VM exit (the study's
 * trick). Core 2 supports 4 target values; a larger cr3 cache is treated as
 * hypothetical hardware with as many targets as cache entries.
 */
import { EXIT_REASON_SLOTS } from '../../shared/exits.js';
import { ExitTimes } from './exit-times.js';

export class Vmx {
  /** Exits and the host cycles they cost, indexed by exit reason number. */
  readonly exitCount = new Float64Array(EXIT_REASON_SLOTS);
  readonly exitCycles = new Float64Array(EXIT_REASON_SLOTS);
  /** Each exit's time: moments per reason, per port, HLT to the next entry (exit-times.ts). */
  readonly times = new ExitTimes();
  /** CR3_TARGET_VALUEn: host cr3 values (here: shadow root ids), -1 = unused. */
  private readonly cr3Target: Int32Array;

  constructor(cr3TargetCount: number) {
    this.cr3Target = new Int32Array(cr3TargetCount).fill(-1);
  }

  /** The host writes CR3_TARGET_VALUE0..n-1 (a VMCS write each): `values`, as many as there are targets. */
  setCr3Targets(values: Int32Array): void {
    this.cr3Target.set(values);
  }

  /** Does a mov to cr3 of `value` stay in the guest? */
  isCr3Target(value: number): boolean {
    const t = this.cr3Target;
    for (let i = 0; i < t.length; i++) if (t[i] === value) return true;
    return false;
  }

  record(reason: number, cycles: number): void {
    this.exitCount[reason]!++;
    this.exitCycles[reason]! += cycles;
    this.times.exit(reason, cycles);
  }

  /** The exit counters and times restart (the measured run begins). */
  resetExits(): void {
    this.exitCount.fill(0);
    this.exitCycles.fill(0);
    this.times.reset();
  }
}
