/**
 * What a queued run is on Redis: one BullMQ job per config, whose id is the config's
 * store key (so adding a config that is queued, running or finished is a no-op), whose
 * data is the msgpackr-encoded config, and whose return value is the msgpackr-encoded
 * result (base64 in BullMQ's JSON), with the host seconds of the run.
 */
import type { JobsOptions } from 'bullmq';
import type { SimConfig } from '../../shared/config.js';
import { decodeConfig, decodeResult, encodeConfig, encodeResult } from '../../shared/codec.js';
import type { RunResult } from '../../shared/stats.js';
import { MODEL_VERSION } from '../../worker/model.js';
import { configKey } from '../store/record.js';

export const JOB_NAME = 'simulate';

export interface JobData {
  /** The config, msgpackr-encoded, base64. */
  config: string;
  /** The model version the coordinator's key was made with. */
  modelVersion: string;
}

export interface JobReturn {
  /** The RunResult, msgpackr-encoded, base64. */
  result: string;
  hostSeconds: number;
}

/** How long finished jobs stay in Redis for a coordinator to collect (seconds). */
export const KEEP_FINISHED_S = 7 * 24 * 3600;

export const jobData = (cfg: SimConfig): JobData => ({ config: Buffer.from(encodeConfig(cfg)).toString('base64'), modelVersion: MODEL_VERSION });
export const configOf = (d: JobData): SimConfig => decodeConfig(Buffer.from(d.config, 'base64'));

export const jobOptions = (cfg: SimConfig, retries: number): JobsOptions => ({
  jobId: configKey(cfg),
  attempts: retries + 1,
  removeOnComplete: { age: KEEP_FINISHED_S },
  removeOnFail: { age: KEEP_FINISHED_S },
});

/** encodeResult's buffer is already a copy of pack()'s (codec.ts), so it may be kept. */
export const jobReturn = (r: RunResult, hostSeconds: number): JobReturn => ({ result: Buffer.from(encodeResult(r)).toString('base64'), hostSeconds });

/** A job's return value as BullMQ hands it back (parsed JSON, or the JSON text). */
export function resultOf(rv: unknown): { result: RunResult; hostSeconds: number } {
  const v = (typeof rv === 'string' ? JSON.parse(rv) : rv) as JobReturn | null;
  if (!v || typeof v.result !== 'string' || typeof v.hostSeconds !== 'number') throw new Error('the job returned no result');
  return { result: decodeResult(Buffer.from(v.result, 'base64')), hostSeconds: v.hostSeconds };
}
