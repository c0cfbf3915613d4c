import type { Vcpu } from '../vcpu.js';

/**
 * The workloads map every page they touch before they run, so a guest page fault
 * (not-present guest PTE) means the model itself is wrong.
 */
export function guestPageFault(v: Vcpu, vpn: number): never {
  throw new Error(`guest page fault on vCPU ${v.id} at vpn 0x${vpn.toString(16)} with cr3 frame ${v.cr3}: page not mapped by the workload`);
}
