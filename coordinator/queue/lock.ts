/** Default job lock (ms): a job whose worker has not renewed it for this long is taken for stalled (BullMQ lockDuration). Its own file so that --help can print it without loading bullmq. */
export const DEFAULT_LOCK_MS = 30_000;
