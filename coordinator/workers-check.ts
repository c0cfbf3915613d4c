/**
 * `run --workers` against the machine: more worker threads than cores run the replicas
 * of one VM in turn on the same cores, which costs a replica's memory each and gains no
 * speed. Allowed (the statistics are the same for any number), but said on stderr,
 * never in the --json document on stdout.
 */
import { availableParallelism } from 'node:os';

/** The warning for `workers` threads on a machine of `cores` cores, or null when they fit. */
export function workersWarning(workers: number, cores = availableParallelism()): string | null {
  if (workers <= cores) return null;
  return `warning: --workers ${workers} is more threads than this machine's ${cores} cores; the replicas share the cores and each holds its own part of the VM in memory`;
}
