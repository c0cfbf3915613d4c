/** An skb queued on unix stream `ch` by another vCPU (unix_stream_sendmsg): its length, its slab slot and the pages of its head and data. */
import type { RecordBus, RecordSource } from '../bus.js';

export const M_UNIX_SEND = 3;

export interface UnixSend {
  /** The channel. */
  ch: number;
  /** Bytes. */
  len: number;
  /** Skb slab slot. */
  slot: number;
  /** Page of the sk_buff head. */
  head: number;
  /** Page of the data area. */
  data: number;
}

export function emitUnixSend(bus: RecordBus, src: RecordSource, ch: number, len: number, slot: number, head: number, data: number): void {
  const at = bus.emit(src, M_UNIX_SEND, 5);
  const d = bus.d;
  d[at] = ch;
  d[at + 1] = len;
  d[at + 2] = slot;
  d[at + 3] = head;
  d[at + 4] = data;
}

export function readUnixSend(d: Float64Array, at: number, out: UnixSend): UnixSend {
  out.ch = d[at]! | 0;
  out.len = d[at + 1]! | 0;
  out.slot = d[at + 2]! | 0;
  out.head = d[at + 3]! | 0;
  out.data = d[at + 4]! | 0;
  return out;
}
