/**
 * SMP load balancing, after 2.6.20's load_balance (kernel/sched.c), run at each quantum's
 * end from the run-queue lengths every vCPU published (M_LOAD records): an idle vCPU
 * pulls from the busiest at every quantum's end (idle_balance), and about once a tick
 * (rebalance_tick) the busiest and idlest are evened out while they differ by 2 or more
 * and by more than imbalance_pct. The busy vCPU gives up half the difference, chosen as
 * move_tasks does; the tasks travel as M_MIGRATE records and arrive at the next
 * quantum's end, their timestamps keeping their distance from the clock (pull_task).
 */
import type { RecordBus } from '../../smp/bus.js';
import { emitLoad, M_LOAD, readLoad, type Load } from '../../smp/records/load.js';
import { emitMigrate, M_MIGRATE, readMigrate, type Migrate } from '../../smp/records/migrate.js';
import type { GuestCpu } from '../cpu.js';
import { RESCHEDULE_VECTOR } from '../irq/vectors.js';
import { TASK_RUNNING, type Task } from '../task.js';

/**
 * sd->cache_hot_time of 2.6.20's CPU domain (SD_CPU_INIT: 2.5 ms): a task that ran this
 * recently is not pulled, unless balancing has failed more than cache_nice_tries (1) times.
 */
export const CACHE_HOT_NS = 2_500_000;
const CACHE_NICE_TRIES = 1;
/** imbalance_pct of the CPU domain: the busiest must exceed the idlest by 25%. */
const IMBALANCE_PCT = 125;

/** The task state a migration carries, written and read in this order; then the count of its zombies' words and the words. */
const MIGRATED: readonly (readonly [(t: Task) => number, (t: Task, x: number) => void])[] = [
  [(t) => (t.inSyscall ? 1 : 0), (t, x) => void (t.inSyscall = x === 1)],
  [(t) => t.staticPrio, (t, x) => void (t.staticPrio = x)],
  [(t) => t.prio, (t, x) => void (t.prio = x)],
  [(t) => t.sleepAvg, (t, x) => void (t.sleepAvg = x)],
  [(t) => t.sleepType, (t, x) => void (t.sleepType = x)],
  [(t) => (t.sleepNonInteractive ? 1 : 0), (t, x) => void (t.sleepNonInteractive = x === 1)],
  [(t) => t.timeSlice, (t, x) => void (t.timeSlice = x)],
  [(t) => (t.firstTimeSlice ? 1 : 0), (t, x) => void (t.firstTimeSlice = x === 1)],
  [(t) => t.timestamp, (t, x) => void (t.timestamp = x)],
  [(t) => t.pc, (t, x) => void (t.pc = x)],
  [(t) => t.i, (t, x) => void (t.i = x)],
  [(t) => t.j, (t, x) => void (t.j = x)],
  [(t) => (t.ioDone ? 1 : 0), (t, x) => void (t.ioDone = x === 1)],
  [(t) => t.wakeAt, (t, x) => void (t.wakeAt = x)],
];

export class LoadBalancer {
  /** Every vCPU's nr_running at the last quantum's end, tasks arriving by migration counted. */
  readonly loads: Int32Array;
  /** The nr_running each local vCPU last published. */
  private readonly published: Int32Array;
  private readonly failed: Int32Array;
  private readonly planLoads: Int32Array;
  private readonly picked: Task[] = [];
  /** Destinations of the tasks that arrived in this merge. */
  private arrivedAt = new Int32Array(64);
  private arrivals = 0;
  private readonly cacheHotCycles: number;
  private readonly load: Load = { cpu: 0, nr: 0 };
  private readonly mig: Migrate = { pid: 0, dest: 0, state: 0 };

  constructor(
    private readonly bus: RecordBus,
    private readonly cpus: readonly GuestCpu[],
    private readonly tasks: readonly Task[],
    clockHz: number,
    /** Full load balancing every this many quanta (an idle vCPU pulls at every quantum's end). */
    readonly balanceEvery: number,
  ) {
    const n = cpus.length;
    this.loads = new Int32Array(n);
    this.published = new Int32Array(n).fill(-1);
    this.failed = new Int32Array(n);
    this.planLoads = new Int32Array(n);
    this.cacheHotCycles = (CACHE_HOT_NS * clockHz) / 1e9;
    bus.atQuantumEnd((cpu) => this.publish(cpu));
    bus.on(M_LOAD, (d, at) => {
      const r = readLoad(d, at, this.load);
      this.loads[r.cpu] = r.nr;
    });
    // Tasks in flight arrive first: later records may be for them.
    bus.onFirstPass(M_MIGRATE, (d, at, _src, time) => this.arrive(readMigrate(d, at, this.mig), d, time));
    bus.on(M_MIGRATE, () => {});
    bus.afterDeliver(() => {
      // The published lengths were taken before the arrivals.
      for (let i = 0; i < this.arrivals; i++) this.loads[this.arrivedAt[i]!]!++;
      this.arrivals = 0;
    });
  }

  /** The quantum is over on `cpu`: publish its run-queue length (when it changed). */
  private publish(id: number): void {
    const cpu = this.cpus[id]!;
    const nr = cpu.rq.nrRunning;
    if (nr === this.published[id]) return;
    this.published[id] = nr;
    emitLoad(this.bus, cpu.vcpu, id, nr);
  }

  /** The balancing after the merge of quantum `quantum`. */
  balance(quantum: number): void {
    const full = (quantum + 1) % this.balanceEvery === 0;
    const loads = this.planLoads;
    loads.set(this.loads);
    const n = loads.length;
    for (let iter = 0; iter < n; iter++) {
      let b = 0;
      let i = 0;
      for (let c = 1; c < n; c++) {
        if (loads[c]! > loads[b]!) b = c;
        if (loads[c]! < loads[i]!) i = c;
      }
      if (!full && loads[i] !== 0) break;
      const diff = loads[b]! - loads[i]!;
      if (diff < 2 || loads[b]! * 100 <= loads[i]! * IMBALANCE_PCT) break;
      const count = diff >> 1;
      if (this.bus.isLocal(b)) this.pushTasks(this.cpus[b]!, i, count);
      loads[b]! -= count;
      loads[i]! += count;
    }
  }

  /** The busy vCPU's half of pull_task: take up to `count` tasks off its run queue and send them to `dest`. */
  private pushTasks(src: GuestCpu, dest: number, count: number): void {
    const hotOk = this.failed[src.id]! > CACHE_NICE_TRIES;
    const now = src.vcpu.clock;
    const hot = this.cacheHotCycles;
    const current = src.current;
    src.rq.migrationCandidates(count, (t) => t !== current && t.migratable && (hotOk || now - t.timestamp > hot), this.picked);
    if (this.picked.length === 0) {
      this.failed[src.id]!++;
      return;
    }
    this.failed[src.id] = 0;
    for (const t of this.picked) {
      src.rq.dequeue(t);
      const z = t.zombies;
      const at = emitMigrate(this.bus, src.vcpu, t.pid, dest, MIGRATED.length + 1 + z.length);
      const d = this.bus.d;
      for (let f = 0; f < MIGRATED.length; f++) d[at + f] = MIGRATED[f]![0](t);
      d[at + MIGRATED.length] = z.length;
      for (let i = 0; i < z.length; i++) d[at + MIGRATED.length + 1 + i] = z[i]!;
      // In flight until the next quantum's end: whatever happens to it meanwhile (a child's
      // exit, a wake-up) is a record, delivered after it has arrived.
      t.cpu = -1;
    }
    this.picked.length = 0;
  }

  /** A migrated task arrives: every replica learns its new vCPU; the one running that vCPU enqueues it. */
  private arrive(r: Migrate, d: Float64Array, sentAt: number): void {
    if (this.arrivedAt.length < this.tasks.length) this.arrivedAt = new Int32Array(this.tasks.length);
    this.arrivedAt[this.arrivals++] = r.dest;
    const t = this.tasks[r.pid - 1]!;
    t.cpu = r.dest;
    if (!this.bus.isLocal(r.dest)) return;
    const cpu = this.cpus[r.dest]!;
    const v = cpu.vcpu;
    for (let f = 0; f < MIGRATED.length; f++) MIGRATED[f]![1](t, d[r.state + f]!);
    const nz = d[r.state + MIGRATED.length]! | 0;
    t.zombies.length = 0;
    for (let i = 0; i < nz; i++) t.zombies.push(d[r.state + MIGRATED.length + 1 + i]!);
    // pull_task: the timestamp keeps its distance from the clock of the CPU it left.
    t.timestamp = v.clock - (sentAt - t.timestamp);
    t.state = TASK_RUNNING;
    cpu.rq.enqueue(t);
    cpu.stat.migrations++;
    this.published[r.dest] = -1; // every replica counted the arrival: publish the true length next time
    if (t.prio < cpu.current.prio) cpu.lapic.receiveIpi(RESCHEDULE_VECTOR, v.clock);
  }
}
