/**
 * How the replicas of one VM swap each quantum's records: nothing to swap when one
 * replica runs every vCPU; shared memory between worker threads otherwise
 * (sab-exchange.ts).
 */
import type { Run } from './msgbuf.js';

export interface SwapReply {
  /** Every replica's records (this one's included). */
  readonly parts: readonly Run[];
  /** Tasks that have exited on all replicas' vCPUs. */
  readonly exited: number;
}

export interface Exchange {
  /** Hand over this replica's records and its count of exited tasks; get back everyone's. */
  swap(records: Run, exited: number): SwapReply;
  /**
   * An exchange whose replicas write their records in place may offer its slot: the
   * array, where this replica's records go and how many words fit; `publish` then hands
   * over the `len` words written there.
   */
  readonly slot?: { readonly data: Float64Array; start(): number; readonly capacity: number; publish(len: number, exited: number): SwapReply };
}
