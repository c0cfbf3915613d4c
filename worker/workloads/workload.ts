import type { MetricStats } from '../../shared/stats.js';
import type { SimConfig } from '../../shared/config.js';
import type { Kernel } from '../guest/kernel.js';

/** A workload set up in a guest: its tasks exist; after the run it reports its own metric. */
export interface WorkloadRun {
  /** The figure, from the kernel's time marks (combined over the vCPUs: earliest 'first', latest 'last' marks). */
  metric(marks: Float64Array): MetricStats;
}

export type WorkloadBuilder = (k: Kernel, cfg: SimConfig) => WorkloadRun;

/** Spread tasks over vCPUs in fork order (the guest's initial placement; the load balancer moves them later). */
export function placeCpu(index: number, vcpus: number): number {
  return index % vcpus;
}
