/**
 * Exit detail at `perf kvm stat`'s level (tools/perf/builtin-kvm.c, arch/x86/util/kvm-stat.c):
 * for each exit reason, each I/O port and direction (the `ioport` event), and HLT's span to
 * the next entry, the count, total, min, max, mean and standard deviation of the exit's
 * time; per vCPU and for the VM. A worker keeps streaming moments per vCPU
 * (worker/machine/exit-times.ts); they merge here, in vCPU order, with the pairwise
 * formula (welford.ts), so the figures are the same however the vCPUs were spread over
 * threads. The detail is a group of its own in the run's result (`exitDetail`), beside the
 * statistics that were there before it, which it leaves as they were.
 */
import { EXIT_REASON, EXIT_REASON_NAMES, type ExitReasonName } from './exits.js';
import { emptyMoments, M_MAX, M_MEAN, M_MIN, M_N, M_SUM, mergeMoments, stddevOf, type Moments } from './welford.js';

/** One port access's series, as a worker reports it (`rw` as kvm_pio's: 1 out, 0 in). */
export interface PortMoments {
  port: number;
  rw: number;
  m: Moments;
}

/** One vCPU's exit times, in cycles, as a worker reports them. */
export interface ExitTimesSnapshot {
  /** Indexed by exit reason number. */
  reasons: Moments[];
  hltEntry: Moments;
  /** In port order, then PIN before POUT. */
  ports: PortMoments[];
  tlbFlush: number;
  signalExits: number;
}

/** A series of times, in ns. `stddevNs` is the sample standard deviation (perf prints its standard error relative to the mean, stddevNs / sqrt(count) / meanNs). */
export interface TimeStats {
  count: number;
  totalNs: number;
  minNs: number;
  maxNs: number;
  meanNs: number;
  stddevNs: number;
}

/** perf's names of a port access's direction (ioport_event_decode_key). */
export type PortDirection = 'PIN' | 'POUT';

export interface ExitDetailStats {
  /** Per exit reason that occurred: the time each exit was charged (VM exit, KVM's exit path, the handler, VM entry). */
  vmexit: Partial<Record<ExitReasonName, TimeStats>>;
  /** HLT exits from the exit to the next entry, the halted interval and the wake-up included (perf's time of HLT); null without HLT exits. */
  hltToEntry: TimeStats | null;
  /** Port accesses (IO_INSTRUCTION exits) by port and direction, in port order. */
  ioport: ({ port: number; dir: PortDirection } & TimeStats)[];
  /** KVM debugfs counters the exit counts do not give: handler TLB flush requests, and kick-outs that returned KVM_RUN with -EINTR. */
  tlbFlush: number;
  signalExits: number;
}

export type ExitDetail = ExitDetailStats & { perVcpu: ({ vcpu: number } & ExitDetailStats)[] };

function timeStats(m: Moments, ns: (c: number) => number): TimeStats {
  return { count: m[M_N], totalNs: ns(m[M_SUM]), minNs: ns(m[M_MIN]), maxNs: ns(m[M_MAX]), meanNs: ns(m[M_MEAN]), stddevNs: ns(stddevOf(m)) };
}

/** The snapshots of several vCPUs (in vCPU order) combined into one. */
export function mergeSnapshots(parts: readonly ExitTimesSnapshot[]): ExitTimesSnapshot {
  const reasons = parts[0]!.reasons.map((_, r) => parts.reduce<Moments>((acc, p) => mergeMoments(acc, p.reasons[r]!), emptyMoments()));
  const hltEntry = parts.reduce<Moments>((acc, p) => mergeMoments(acc, p.hltEntry), emptyMoments());
  const byPort = new Map<number, Moments>();
  for (const p of parts) {
    for (const e of p.ports) {
      const k = e.port * 2 + e.rw;
      byPort.set(k, mergeMoments(byPort.get(k) ?? emptyMoments(), e.m));
    }
  }
  const ports = [...byPort.entries()].sort((a, b) => a[0] - b[0]).map(([k, m]) => ({ port: k >> 1, rw: k & 1, m }));
  return { reasons, hltEntry, ports, tlbFlush: parts.reduce((s, p) => s + p.tlbFlush, 0), signalExits: parts.reduce((s, p) => s + p.signalExits, 0) };
}

export function detailStats(s: ExitTimesSnapshot, ns: (c: number) => number): ExitDetailStats {
  const vmexit: ExitDetailStats['vmexit'] = {};
  for (const name of EXIT_REASON_NAMES) {
    const m = s.reasons[EXIT_REASON[name]]!;
    if (m[M_N] > 0) vmexit[name] = timeStats(m, ns);
  }
  return {
    vmexit,
    hltToEntry: s.hltEntry[M_N] > 0 ? timeStats(s.hltEntry, ns) : null,
    ioport: s.ports.map((p) => ({ port: p.port, dir: p.rw ? 'POUT' : 'PIN', ...timeStats(p.m, ns) })),
    tlbFlush: s.tlbFlush,
    signalExits: s.signalExits,
  };
}

/** The VM's exit detail from its vCPUs' snapshots (`vcpus` in vCPU order). */
export function exitDetail(vcpus: readonly { id: number; exitTimes: ExitTimesSnapshot }[], ns: (c: number) => number): ExitDetail {
  const total = detailStats(mergeSnapshots(vcpus.map((v) => v.exitTimes)), ns);
  return { ...total, perVcpu: vcpus.map((v) => ({ vcpu: v.id, ...detailStats(v.exitTimes, ns) })) };
}
