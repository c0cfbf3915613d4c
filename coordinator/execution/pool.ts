/**
 * A pool of worker threads that run simulations: piscina underneath, one config per
 * task, msgpackr buffers across the thread boundary (the config's buffer is
 * transferred in, the result's buffer is transferred back). The local runner
 * (local.ts) owns it; split and live runs (split.ts, live.ts) put their replicas on it.
 *
 * A thread that dies (process.exit, an uncaught exception) fails the run it was doing
 * and piscina starts a replacement; retrying that run is the caller's decision (see
 * runner.ts).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { SimConfig } from '../../shared/config.js';
import type { Costs } from '../../shared/costs.js';
import { decodeResult, encodeConfig } from '../../shared/codec.js';
import type { RunResult } from '../../shared/stats.js';
import { configErrorOf, type AnyPartReply, type LiveTask, type PartAborted, type PartConfigError, type PartReply, type PartTask, type SimReply, type SimTask } from '../../worker/protocol.js';
import { defaultWorkers } from './limits.js';

/**
 * The worker entry, resolved relative to this file: the build's one-file bundle of
 * worker/entry.ts (scripts/bundle.js; a thread loads one module, not 135). From the build
 * it sits next to this file's directory in `dist/`; from source (vitest) it is still the
 * built file, because the new threads piscina starts do not compile TypeScript.
 */
export function workerEntryUrl(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('../../dist/worker/entry.bundle.js', import.meta.url)
    : new URL('../../worker/entry.bundle.js', import.meta.url);
}

export interface SimPoolOptions {
  /** Worker threads (default: one per core). */
  threads?: number;
  /** The worker entry the threads load (default: workerEntryUrl()). Tests give one that injects faults. */
  entry?: URL;
  /**
   * Called with errors that belong to no run, e.g. a thread that dies between runs.
   * Errors during a run reject that run instead. Default: a line on stderr.
   */
  onError?: (err: Error) => void;
}

export interface PoolRun {
  result: RunResult;
  /** Host seconds the simulation took on its thread (not counting the queue). */
  hostSeconds: number;
}

/** Young generation of each worker thread (MiB). */
const YOUNG_GENERATION_MIB = 4;

export class SimPool {
  readonly threads: number;
  readonly #pool: Piscina<SimTask | PartTask, SimReply | AnyPartReply>;
  #destroyed = false;

  constructor(opts: SimPoolOptions = {}) {
    const threads = opts.threads ?? defaultWorkers();
    if (!Number.isInteger(threads) || threads < 1) {
      throw new RangeError(`threads: expected a positive integer, got ${String(threads)}`);
    }
    const entry = opts.entry ?? workerEntryUrl();
    if (!existsSync(entry)) {
      throw new Error(`worker entry ${fileURLToPath(entry)} is missing: run \`npm run build\` first`);
    }
    this.threads = threads;
    this.#pool = new Piscina<SimTask | PartTask, SimReply | AnyPartReply>({
      filename: entry.href,
      // Start every thread up front (a sweep uses all of them at once) and keep the
      // count there: piscina replaces a dead thread to stay at minThreads.
      minThreads: threads,
      maxThreads: threads,
      // A simulation keeps its state in typed arrays and long-lived objects: V8's default
      // young generation (two 16 MiB semi-spaces once grown) is mostly empty room, paid
      // again in every thread. 4 MiB cut a 256-vCPU run's peak by about 35 MiB a thread
      // without slowing it (docs/speed.md, "A big VM").
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MIB },
    });
    const onError =
      opts.onError ?? ((err: Error) => process.stderr.write(`vcpusim: worker thread failed between runs: ${err.message}\n`));
    // Without a listener an 'error' event would throw in this thread.
    this.#pool.on('error', (err: unknown) => onError(err instanceof Error ? err : new Error(String(err))));
  }

  /** Runs one config (with `overrides` of its profile's costs) on some thread. Rejects if the thread throws or dies, with a ConfigError if the config does not fit. */
  async run(config: SimConfig, overrides?: Partial<Costs>): Promise<PoolRun> {
    if (this.#destroyed) throw new Error('SimPool.run after destroy');
    const bytes = encodeConfig(config);
    const task: SimTask = overrides ? { config: bytes, overrides } : { config: bytes };
    const reply = (await this.#pool.run(task, { transferList: [bytes.buffer] })) as SimReply | PartConfigError;
    const configError = configErrorOf(reply);
    if (configError) throw configError;
    return { result: decodeResult((reply as SimReply).result), hostSeconds: (reply as SimReply).hostSeconds };
  }

  /** Runs one replica of a split VM (see split.ts); it occupies its thread for the whole run. */
  async runPart(task: PartTask): Promise<PartReply | PartConfigError | PartAborted> {
    if (this.#destroyed) throw new Error('SimPool.runPart after destroy');
    return (await this.#pool.run(task, { name: 'runPart', transferList: [task.config.buffer as ArrayBuffer] })) as PartReply | PartConfigError | PartAborted;
  }

  /** Runs one replica that answers control calls (live.ts); its control port goes with it. */
  async runLive(task: LiveTask): Promise<AnyPartReply> {
    if (this.#destroyed) throw new Error('SimPool.runLive after destroy');
    return (await this.#pool.run(task, { name: 'runLive', transferList: [task.config.buffer as ArrayBuffer, task.control] })) as AnyPartReply;
  }

  /** Terminates every thread; runs still in flight reject. Safe to call twice. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    await this.#pool.destroy();
  }
}
