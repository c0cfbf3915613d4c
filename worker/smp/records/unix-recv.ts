/** An skb consumed from unix stream `ch` by another vCPU (unix_stream_recvmsg). */
import type { RecordBus, RecordSource } from '../bus.js';

export const M_UNIX_RECV = 4;

export interface UnixRecv {
  /** The channel. */
  ch: number;
  /** Bytes. */
  len: number;
  /** Skb slab slot. */
  slot: number;
}

export function emitUnixRecv(bus: RecordBus, src: RecordSource, ch: number, len: number, slot: number): void {
  const at = bus.emit(src, M_UNIX_RECV, 3);
  const d = bus.d;
  d[at] = ch;
  d[at + 1] = len;
  d[at + 2] = slot;
}

export function readUnixRecv(d: Float64Array, at: number, out: UnixRecv): UnixRecv {
  out.ch = d[at]! | 0;
  out.len = d[at + 1]! | 0;
  out.slot = d[at + 2]! | 0;
  return out;
}
