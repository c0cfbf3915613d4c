/**
 * A recorded scheduler trace replayed, CPU by CPU: each replayed CPU of the trace is a vCPU,
 * each task seen on it a guest task pinned there (cpus_allowed of one CPU, as `taskset`
 * makes it), a thread of its address space's mm (shared/trace/address-spaces.ts gives the
 * runs and the address spaces). The recorded order of switches is made by the guest the
 * way lat_ctx makes it: the running task does its run's user work (the recorded time it was
 * current x timeScale), writes a token to the pipe of the task of the next run and blocks
 * reading its own; the guest's own schedule() then switches, loading cr3 when the address
 * space differs. Kernel threads and the idle task are left out (lazy TLB: they load no
 * cr3), and so is their time. Each address space has the pages a task touches in user
 * mode (text, libc, stack, data), with their page tables.
 *
 * A run's user work is done in pieces, each up to the next event due on its vCPU (a tick,
 * QEMU's alarm, a device), so interrupts arrive at their rate however long the recorded
 * run is, as they would in the middle of user code.
 *
 * The figure is the guest time of the replay (s). Each CPU's tasks but the first start
 * asleep in their pipe's read (parked as if they had run up to it: a recorded task is
 * already in the middle of its life); the first finds its token and runs. The statistics
 * count from the start, so that each CPU's first cr3 load counts, as `trace analyze`
 * counts the trace's.
 */
import type { SimConfig } from '../../shared/config.js';
import { userRuns } from '../../shared/trace/address-spaces.js';
import { loadTraceFile } from '../../shared/trace/file.js';
import type { Pipe } from '../guest/ipc/pipe.js';
import type { Kernel } from '../guest/kernel.js';
import type { Mm, Task } from '../guest/task.js';
import { AGAIN, marks, program } from './steps.js';
import type { WorkloadRun } from './workload.js';

const TOKEN = 1;

export function buildTrace(k: Kernel, cfg: SimConfig): WorkloadRun {
  const loaded = loadTraceFile(cfg.trace);
  if (loaded.sha256 !== cfg.traceSha256) throw new Error(`${cfg.trace}: its sha256 is ${loaded.sha256}, not the config's ${cfg.traceSha256}`);
  const cpus = cfg.traceCpus === '' ? undefined : cfg.traceCpus.split(',').map(Number);
  const runs = userRuns(loaded.trace, { cpus });
  const cyclesPerSecond = k.c.clockHz * cfg.timeScale;
  const mms: (Mm | undefined)[] = [];
  const threads: number[] = [];
  /** Per guest task (by pid): its pipe, its runs (positions in its CPU's run list), how far it is. */
  const pipeOf: Pipe[] = [];
  const runsOf: number[][] = [];
  const cpuOf: number[] = [];
  const runTask: Task[][] = [];
  /** The user work (guest cycles) each task's run has still to do, by pid. */
  const left: number[] = [];

  const M = marks('firstRun', 'lastRun');
  // Each of the task's runs: wait for the token, do the run's user work, pass the token to the next run's task.
  const replay = program(k, {
    run(cpu, t) {
      if (!k.read(cpu, t, pipeOf[t.pid]!, TOKEN)) return AGAIN;
      const at = runsOf[t.pid]![t.i]!;
      if (at === 0) k.markFirst(M.firstRun, cpu.vcpu.clock);
      left[t.pid] = runs.perCpu[cpuOf[t.pid]!]!.seconds[at]! * cyclesPerSecond;
      return 'work';
    },
    // The run's user work up to the next event due on this vCPU; the rest after it is taken.
    work(cpu, t) {
      const v = cpu.vcpu;
      const rest = left[t.pid]!;
      const room = Math.max(1, (v.events.next() - v.clock) / cpu.platform.guestFactor);
      if (rest <= room) {
        k.userWork(cpu, t, rest);
        return 'pass';
      }
      k.userWork(cpu, t, room);
      left[t.pid] = rest - room;
      return 'work';
    },
    pass(cpu, t) {
      const mine = runsOf[t.pid]!;
      const next = runTask[cpuOf[t.pid]!]![mine[t.i]! + 1];
      if (next) {
        if (!k.write(cpu, t, pipeOf[next.pid]!, TOKEN)) return AGAIN;
      } else k.markLast(M.lastRun, cpu.vcpu.clock);
      return ++t.i < mine.length ? 'run' : 'exit';
    },
  });

  runs.perCpu.forEach((c, v) => {
    const byTask = new Map<number, Task>();
    const order: Task[] = [];
    runTask[v] = [];
    for (let at = 0; at < c.task.length; at++) {
      const id = c.task[at]!;
      let t = byTask.get(id);
      if (!t) {
        const { pid, mm } = runs.tasks[id]!;
        const shared = mms[mm];
        const m = shared ?? (mms[mm] = k.createMm());
        const threadIndex = shared ? (threads[mm] = (threads[mm] ?? 0) + 1) : -1;
        t = k.createTask(`trace/${pid}`, m, v, replay, 'child', threadIndex);
        t.migratable = false;
        // The token's wake-up does not preempt its writer: the recorded switch is the writer's block in its read.
        pipeOf[t.pid] = k.newPipe(`trace${pid}@${c.cpu}`, true);
        runsOf[t.pid] = [];
        cpuOf[t.pid] = v;
        byTask.set(id, t);
        order.push(t);
      }
      runsOf[t.pid]!.push(at);
      runTask[v].push(t);
    }
    // The first run's task finds the token in its pipe; the others sleep in their read.
    const first = runTask[v][0];
    if (!first) return;
    pipeOf[first.pid]!.pipeWrite(TOKEN);
    for (const t of order) if (t !== first) k.park(t, pipeOf[t.pid]!.readWaitAt(v), true, true); // pipe_wait
    k.start(first);
  });

  return {
    metric(m) {
      const seconds = m[M.lastRun]! >= m[M.firstRun]! ? (m[M.lastRun]! - m[M.firstRun]!) / k.c.clockHz : 0;
      return { name: 'trace', unit: 's', value: seconds };
    },
  };
}
