/**
 * This machine's runner, and the one owner of its worker threads: a pool of `threads`
 * piscina threads (pool.ts), started when the first run needs it, or this thread itself
 * (`inThread`, for tests and a calibration on one thread). Besides a list of configs it
 * runs one VM split over its threads (split.ts), with or without a live view (live.ts).
 */
import type { SimConfig } from '../../shared/config.js';
import type { Costs } from '../../shared/costs.js';
import { defaultWorkers } from './limits.js';
import { runVmLive, type LiveSample } from './live.js';
import { longestFirst } from './order.js';
import { SimPool } from './pool.js';
import { runOnLanes, type Attempt, type RunAllOptions, type RunOutcome, type Runner, type TimedRun } from './runner.js';
import { runVmSplit, type SplitRun } from './split.js';

export interface LocalRunnerOptions {
  /** Worker threads (default: one per core). */
  threads?: number;
  /** Run in this thread instead (no pool): the event loop is blocked while a run goes. */
  inThread?: boolean;
  /** The worker entry the threads load (tests give one that injects faults). */
  entry?: URL;
}

/** How one VM is run on the runner's threads. */
export interface VmRunOptions {
  /** vCPU ids per thread (split.ts's placeVcpus). */
  placement: readonly (readonly number[])[];
  /** A live run: called with a sample of the replicas about every `intervalMs` (live.ts). */
  onSample?: (s: LiveSample) => void;
  intervalMs?: number;
  /** Retries of a split run whose replica failed (default 2; a live run is not retried). */
  retries?: number;
}

/** One attempt in this thread (the simulator loads into it on the first). */
async function inThread(config: SimConfig, overrides?: Partial<Costs>): Promise<TimedRun> {
  const { simulate } = await import('../../worker/api.js');
  const t0 = process.hrtime.bigint();
  const result = simulate(config, overrides);
  return { result, hostSeconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

export class LocalRunner implements Runner {
  readonly threads: number;
  readonly #inThread: boolean;
  readonly #entry: URL | undefined;
  #pool: SimPool | undefined;
  #closed = false;

  constructor(opts: LocalRunnerOptions = {}) {
    const threads = opts.threads ?? defaultWorkers();
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads: expected a positive integer, got ${String(threads)}`);
    this.threads = opts.inThread ? 1 : threads;
    this.#inThread = opts.inThread === true;
    this.#entry = opts.entry;
  }

  /** The pool, started on first use with `want` threads (no more than the runner's: a list of 3 configs needs 3). */
  #threads(want = this.threads): SimPool {
    if (this.#closed) throw new Error('LocalRunner used after close');
    this.#pool ??= new SimPool({ threads: Math.max(1, Math.min(want, this.threads)), ...(this.#entry ? { entry: this.#entry } : {}) });
    return this.#pool;
  }

  /** Start the threads now (before a clock starts, or so that a Ctrl-C finds them up). */
  start(): this {
    if (!this.#inThread) this.#threads();
    return this;
  }

  /** One run of a config (with `overrides` of its profile's costs). Rejects with a ConfigError when the simulation refuses it. */
  runOne(config: SimConfig, overrides?: Partial<Costs>): Promise<TimedRun> {
    return this.#inThread ? inThread(config, overrides) : this.#threads().run(config, overrides);
  }

  runAll(configs: readonly SimConfig[], opts: RunAllOptions = {}): Promise<RunOutcome[]> {
    if (this.#inThread) return runOnLanes(configs, (config) => inThread(config, opts.overrides), 1, opts, true);
    if (configs.length === 0) return Promise.resolve([]);
    const pool = this.#threads(configs.length);
    const attempt: Attempt = (config) => pool.run(config, opts.overrides);
    // The longest runs first: the last to finish is then a short one.
    return runOnLanes(configs, attempt, pool.threads, opts, false, pool.threads > 1 ? longestFirst(configs) : undefined);
  }

  /**
   * One VM on the threads of `placement`: split over them (one replica a thread), live when
   * `onSample` is given, or as a plain run on one thread otherwise.
   */
  async runVm(cfg: SimConfig, opts: VmRunOptions): Promise<SplitRun> {
    const pool = this.#threads();
    if (opts.onSample) return runVmLive(pool, cfg, opts.placement, opts.onSample, opts.intervalMs).done;
    if (opts.placement.length > 1) return runVmSplit(pool, cfg, opts.placement, opts.retries);
    const r = await pool.run(cfg);
    return { ...r, setupSeconds: 0, quanta: 0, attempts: 1 };
  }

  /** The live run of `cfg` itself, to cancel it (run --live's Ctrl-C). */
  liveVm(cfg: SimConfig, opts: VmRunOptions & { onSample: (s: LiveSample) => void }): ReturnType<typeof runVmLive> {
    return runVmLive(this.#threads(), cfg, opts.placement, opts.onSample, opts.intervalMs);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#pool?.destroy();
  }
}
