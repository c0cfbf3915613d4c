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
 *   0 (the idle task, swapper/N) and, where the trace has no parentage for it, a task whose
 *   comm is one the kernel gives its threads (KTHREAD_NAMES) or matches the user's
 *   `--kthreads` pattern; the replay (workloads/trace.ts) takes its runs from here, so it
 *   loads cr3 exactly where this counts a load;
 * - a cr3 load is a switch to a user task whose mm differs from the CPU's active mm, which
 *   that switch then sets. The first switch to a user task on a CPU is a load.
 */
import { EV_EXEC, EV_FORK, EV_SWITCH, type ParsedTrace } from './parse.js';

/**
 * Kernel threads by name, for traces without parentage (no sched_process_fork from kthreadd):
 * the names the kernel gives its threads (kthread_create's format strings, workqueue
 * rescuers, per-CPU threads, threaded IRQs) in the kernels of 2.6 to today: workqueues,
 * softirq, migration, RCU, kthreadd, IRQ threads, the block, SCSI, USB, MMC, network, file
 * system and device-mapper threads, and the per-CPU and system threads of recent kernels.
 * A pattern of the user's (`--kthreads`) adds to these.
 */
export const KTHREAD_NAMES =
  /^(?:swapper(?:\/\d+)?|kworker\/|ksoftirqd\/|migration\/|rcu|kthreadd$|irq\/|watchdog(?:d|\/)|cpuhp\/|idle_inject\/|kswapd|kcompactd|khugepaged|ksmd|kblockd|kdevtmpfs|khungtaskd|oom_reaper|writeback|kintegrityd|kthrotld|jbd2\/|ext4-|xfs|scsi_|nvme-|kauditd|ipv6_addrconf|mm_percpu_wq|netns|events\/|kacpi|kthread|usb-storage$|khubd$|kpsmoused$|ata_sff$|ata\/|edac-poller$|devfreq_wq$|cfg80211$|hwrng$|spi\d+$|mmcqd\/|mmc_complete$|card\d+-crtc|nfsiod$|rpciod$|xprtiod$|loop\d+$|napi\/|kvm-nx-lpage-re|kvm-pit\/|tpm_dev_wq$|blkcg_punt_bio$|acpi_thermal_pm$|inet_frag_wq$|pm_wq$|bioset$|kmpath_|kaluad$|mld$|cryptd$|kcryptd|dmcrypt_write|kdmflush|psimon$|zswap|ttm$|charger_manager$|btrfs-|f2fs_|kstrp$|kjournald|pdflush$|aio\/|kseriod$|khelper$|kondemand|ksuspend_usbd$|bdi-default$|flush-\d|sync_supers$|krfcommd$|jffs2_gcd|ubi_bgt|kmmcd$|vchiq-|md\d*_raid|raid5wq$|dio\/|hid_compat$|khvcd$|scsi_eh_|scsi_tmf_)/;

/**
 * What one CPU ran: its user-task runs in order. A run is a task (a pid, and which exec of
 * its thread group: exec starts a new run with a new mm) and the time it was current; kernel
 * threads and the idle task in between are left out (their time is `kernelSeconds`), and a
 * run that follows a run of the same task with only those in between continues it.
 */
export interface CpuRuns {
  readonly cpu: number;
  readonly switches: number;
  /** Per run: the task (an index into `tasks`), its address space, and its seconds. */
  readonly task: Int32Array;
  readonly mm: Int32Array;
  readonly seconds: Float64Array;
  readonly kernelSeconds: number;
}

export interface TraceRuns {
  readonly perCpu: readonly CpuRuns[];
  /** Replayed tasks: the pid and the address space of each. */
  readonly tasks: readonly { readonly pid: number; readonly mm: number }[];
  readonly addressSpaces: number;
  readonly kernelThreads: number;
}

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

export interface TraceSelection {
  /** More kernel-thread names. */
  readonly kthreads?: RegExp;
  /** Only these CPUs, in this order. */
  readonly cpus?: readonly number[];
}

/** Walk the trace's events in order and give each CPU its user-task runs. */
export function userRuns(trace: ParsedTrace, opts: TraceSelection = {}): TraceRuns {
  const { events, comms, tgids } = trace;
  const isKthreadName = (comm: string | undefined): boolean => comm !== undefined && (KTHREAD_NAMES.test(comm) || (opts.kthreads?.test(comm) ?? false));
  const kthread = new Set<number>([0]);
  const user = new Set<number>();
  const isKernel = (pid: number): boolean => {
    if (kthread.has(pid)) return true;
    if (user.has(pid)) return false;
    const k = isKthreadName(comms.get(pid));
    (k ? kthread : user).add(pid);
    return k;
  };
  const generation = new Map<number, number>();
  const mmIds = new Map<string, number>();
  const taskIds = new Map<string, number>();
  const tasks: { pid: number; mm: number }[] = [];
  const groupOf = (pid: number): number => tgids.get(pid) ?? pid;
  const mmOf = (pid: number): number => {
    const key = `${groupOf(pid)}:${generation.get(groupOf(pid)) ?? 0}`;
    let id = mmIds.get(key);
    if (id === undefined) {
      id = mmIds.size;
      mmIds.set(key, id);
    }
    return id;
  };
  const taskOf = (pid: number): number => {
    const mm = mmOf(pid);
    const key = `${pid}:${mm}`;
    let id = taskIds.get(key);
    if (id === undefined) {
      id = tasks.length;
      taskIds.set(key, id);
      tasks.push({ pid, mm });
    }
    return id;
  };
  const nCpu = trace.cpus;
  const runTask: number[][] = Array.from({ length: nCpu }, () => []);
  const runSeconds: number[][] = Array.from({ length: nCpu }, () => []);
  const switches = new Int32Array(nCpu);
  const kernelSeconds = new Float64Array(nCpu);
  // What each CPU runs now: a task id (or -1: a kernel thread or idle), since when.
  const current = new Int32Array(nCpu).fill(-1);
  const since = new Float64Array(nCpu).fill(NaN);
  const close = (cpu: number, at: number): void => {
    const was = since[cpu]!;
    if (Number.isNaN(was)) return;
    const dt = Math.max(0, at - was);
    if (current[cpu]! < 0) kernelSeconds[cpu]! += dt;
    else runSeconds[cpu]![runSeconds[cpu]!.length - 1]! += dt;
  };
  const enter = (cpu: number, task: number, at: number): void => {
    since[cpu] = at;
    current[cpu] = task;
    if (task < 0) return;
    const runs = runTask[cpu]!;
    if (runs[runs.length - 1] === task) return;
    runs.push(task);
    runSeconds[cpu]!.push(0);
  };
  for (let i = 0; i < events.length; i++) {
    const kind = events.kind[i]!;
    const at = events.time[i]!;
    if (kind === EV_FORK) {
      const parent = events.a[i]!;
      if (parent === 2 || kthread.has(parent)) kthread.add(events.b[i]!);
      continue;
    }
    if (kind === EV_EXEC) {
      // exec_mmap: a new mm for the group; on this CPU activate_mm loads it at once.
      const pid = events.a[i]!;
      generation.set(groupOf(pid), (generation.get(groupOf(pid)) ?? 0) + 1);
      user.add(pid);
      kthread.delete(pid);
      const cpu = events.cpu[i]!;
      if (cpu < nCpu && current[cpu]! >= 0 && tasks[current[cpu]!]!.pid === pid) {
        close(cpu, at);
        enter(cpu, taskOf(pid), at);
      }
      continue;
    }
    if (kind !== EV_SWITCH) continue;
    const cpu = events.cpu[i]!;
    switches[cpu]!++;
    close(cpu, at);
    const next = events.b[i]!;
    enter(cpu, isKernel(next) ? -1 : taskOf(next), at);
  }
  const keep = opts.cpus ?? Array.from({ length: nCpu }, (_, c) => c);
  const perCpu: CpuRuns[] = keep.map((cpu) => {
    const t = Int32Array.from(runTask[cpu] ?? []);
    return { cpu, switches: switches[cpu] ?? 0, task: t, mm: t.map((x) => tasks[x]!.mm), seconds: Float64Array.from(runSeconds[cpu] ?? []), kernelSeconds: kernelSeconds[cpu] ?? 0 };
  });
  return { perCpu, tasks, addressSpaces: mmIds.size, kernelThreads: [...kthread].filter((p) => p !== 0).length };
}

/**
 * Each CPU's sequence of cr3 loads: a run whose address space differs from the one before
 * it on that CPU (the first run included). `kthreads` adds a pattern of kernel-thread
 * names; `cpus`, when given, keeps those CPUs.
 */
export function cr3Loads(trace: ParsedTrace, opts: TraceSelection = {}): AddressSpaceAnalysis {
  const runs = userRuns(trace, opts);
  const all = new Set<number>();
  let totalSwitches = 0;
  let totalLoads = 0;
  const perCpu: CpuLoads[] = runs.perCpu.map((c) => {
    const loads: number[] = [];
    for (let i = 0; i < c.mm.length; i++) if (i === 0 || c.mm[i] !== c.mm[i - 1]) loads.push(c.mm[i]!);
    const distinct = new Set(loads);
    for (const x of distinct) all.add(x);
    totalSwitches += c.switches;
    totalLoads += loads.length;
    return { cpu: c.cpu, switches: c.switches, loads: Int32Array.from(loads), addressSpaces: distinct.size };
  });
  return { perCpu, switches: totalSwitches, cr3Loads: totalLoads, addressSpaces: all.size, kernelThreads: runs.kernelThreads };
}
