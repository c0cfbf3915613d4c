/**
 * MessagePack encoding of what crosses a thread boundary: configs going to a worker,
 * results coming back.
 *
 * Plain maps (no msgpackr records, no shared structures), so a buffer decodes on any
 * thread without a structure table both ends would have to agree on. Key order and
 * number encodings are preserved, so a result decoded here is JSON-identical to the
 * one the worker produced.
 */
import type * as Msgpackr from 'msgpackr';
import * as msgpackrPack from 'msgpackr/pack';
import type { SimConfig } from './config.js';
import type { RunResult } from './stats.js';
import type { VmPartial } from './partial.js';

/**
 * msgpackr's plain build (its "./pack" entry: Packr and its unpacking, nothing else). Its
 * main entry on node also loads its stream classes (node:stream) and looks for the optional
 * native string extractor (node-gyp-build, detect-libc, child_process): ~10 ms of a `run`'s
 * start, for strings a result has few of. Its declaration file re-exports from a directory,
 * which TypeScript does not resolve in an ES module: the main entry's types are the same.
 */
const { Packr } = msgpackrPack as unknown as typeof Msgpackr;
const packr = new Packr({ useRecords: false });

/**
 * Encodes `value` into a buffer of its own. `pack()` returns a view into a buffer
 * msgpackr reuses for the next call; the copy makes the result safe to keep or to
 * transfer to another thread.
 */
function encode(value: unknown): Uint8Array<ArrayBuffer> {
  return new Uint8Array(packr.pack(value));
}

export function encodeConfig(cfg: SimConfig): Uint8Array<ArrayBuffer> {
  return encode(cfg);
}

export function decodeConfig(bytes: Uint8Array): SimConfig {
  return packr.unpack(bytes) as SimConfig;
}

export function encodeResult(r: RunResult): Uint8Array<ArrayBuffer> {
  return encode(r);
}

export function decodeResult(bytes: Uint8Array): RunResult {
  return packr.unpack(bytes) as RunResult;
}

export function encodePartial(p: VmPartial): Uint8Array<ArrayBuffer> {
  return encode(p);
}

export function decodePartial(bytes: Uint8Array): VmPartial {
  return packr.unpack(bytes) as VmPartial;
}
