/**
 * Address spaces and cr3 loads from a scheduler trace, as Linux's context_switch()
 * (kernel/sched.c) makes them: a switch to a task with an mm calls switch_mm(), which
 * loads cr3 when the mm differs from the CPU's active mm; a kernel thread (no mm) and the
 * idle task borrow the previous mm (lazy TLB: `next->active_mm = oldmm`) and load nothing.
 *
 * The rules (docs/traces.md):
 * - a task's mm is its thread group (TGID) where the trace shows it (ftrace's TGID column,
 *   perf's PID/TID), else its pid;
 * - sched_process_exec gives the thread group a new mm (exec_mmap), which activate_mm
 *   loads on that CPU at once;
 * - a task forked by kthreadd (pid 2), or by a kernel thread, is a kernel thread; so is pid
 *   0 (the idle task, swapper/N) and a task whose comm matches the usual kernel-thread names
 *   or the user's `--kthreads` pattern;
 * - a cr3 load is a switch to a user task whose mm differs from the CPU's active mm, which
 *   that switch then sets. The first switch to a user task on a CPU is a load.
 */
import { EV_EXEC, EV_FORK, EV_SWITCH, type ParsedTrace } from './parse.js';

/** Kernel threads by name: workqueues, softirq, migration, RCU, kthreadd, threaded IRQs and the other per-CPU and system threads of recent kernels. */
export const KTHREAD_NAMES =
  /^(?:swapper(?:\/\d+)?|kworker\/|ksoftirqd\/|migration\/|rcu|kthreadd$|irq\/|watchdog(?:d|\/)|cpuhp\/|idle_inject\/|kswapd|kcompactd|khugepaged|ksmd|kblockd|kdevtmpfs|khungtaskd|oom_reaper|writeback|kintegrityd|kthrotld|jbd2\/|ext4-|xfs|scsi_|nvme-|kauditd|ipv6_addrconf|mm_percpu_wq|netns|events\/|kacpi|kthread)/;

/** The cr3 loads of one CPU, in order, as address-space ids (0..addressSpaces-1). */
export interface CpuLoads {
  readonly cpu: number;
  readonly switches: number;
  readonly loads: Int32Array;
  /** Distinct address spaces loaded on this CPU. */
  readonly addressSpaces: number;
}

export interface AddressSpaceAnalysis {
  readonly perCpu: readonly CpuLoads[];
  readonly switches: number;
  readonly cr3Loads: number;
  /** Distinct address spaces loaded anywhere. */
  readonly addressSpaces: number;
  readonly kernelThreads: number;
}

/**
 * Walk the trace's events in order and give each CPU its sequence of cr3 loads.
 * `kthreads` adds a pattern of kernel-thread names; `cpus`, when given, keeps those CPUs.
 */
export function cr3Loads(trace: ParsedTrace, opts: { kthreads?: RegExp; cpus?: readonly number[] } = {}): AddressSpaceAnalysis {
  const { events, comms, tgids } = trace;
  const isKthreadName = (comm: string | undefined): boolean => comm !== undefined && (KTHREAD_NAMES.test(comm) || (opts.kthreads?.test(comm) ?? false));
  const kthread = new Set<number>([0]);
  const user = new Set<number>();
  // Kernel threads: kthreadd's and kernel threads' children, and names.
  const isKernel = (pid: number): boolean => {
    if (kthread.has(pid)) return true;
    if (user.has(pid)) return false;
    const k = isKthreadName(comms.get(pid));
    (k ? kthread : user).add(pid);
    return k;
  };
  const generation = new Map<number, number>();
  const ids = new Map<string, number>();
  const mmOf = (pid: number): number => {
    const group = tgids.get(pid) ?? pid;
    const key = `${group}:${generation.get(group) ?? 0}`;
    let id = ids.get(key);
    if (id === undefined) {
      id = ids.size;
      ids.set(key, id);
    }
    return id;
  };
  const nCpu = trace.cpus;
  const active = new Int32Array(nCpu).fill(-1);
  const loads: number[][] = Array.from({ length: nCpu }, () => []);
  const switches = new Int32Array(nCpu);
  for (let i = 0; i < events.length; i++) {
    const kind = events.kind[i]!;
    if (kind === EV_FORK) {
      const parent = events.a[i]!;
      const child = events.b[i]!;
      if (parent === 2 || kthread.has(parent)) kthread.add(child);
      continue;
    }
    if (kind === EV_EXEC) {
      // exec_mmap: a new mm for the group, made active on this CPU by activate_mm (a cr3 load).
      const pid = events.a[i]!;
      const group = tgids.get(pid) ?? pid;
      generation.set(group, (generation.get(group) ?? 0) + 1);
      user.add(pid);
      kthread.delete(pid);
      const cpu = events.cpu[i]!;
      const mm = mmOf(pid);
      active[cpu] = mm;
      loads[cpu]!.push(mm);
      continue;
    }
    if (kind !== EV_SWITCH) continue;
    const cpu = events.cpu[i]!;
    switches[cpu]!++;
    const next = events.b[i]!;
    if (isKernel(next)) continue;
    const mm = mmOf(next);
    if (mm !== active[cpu]) {
      active[cpu] = mm;
      loads[cpu]!.push(mm);
    }
  }
  const keep = opts.cpus ? new Set(opts.cpus) : undefined;
  const perCpu: CpuLoads[] = [];
  const all = new Set<number>();
  let totalSwitches = 0;
  let totalLoads = 0;
  for (let c = 0; c < nCpu; c++) {
    if (keep && !keep.has(c)) continue;
    const l = Int32Array.from(loads[c]!);
    const distinct = new Set(l);
    for (const x of distinct) all.add(x);
    perCpu.push({ cpu: c, switches: switches[c]!, loads: l, addressSpaces: distinct.size });
    totalSwitches += switches[c]!;
    totalLoads += l.length;
  }
  return { perCpu, switches: totalSwitches, cr3Loads: totalLoads, addressSpaces: all.size, kernelThreads: [...kthread].filter((p) => p !== 0).length };
}
