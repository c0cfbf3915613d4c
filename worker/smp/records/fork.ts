/**
 * A task made by fork() or pthread_create on a vCPU (copy_process): the other replicas
 * make their copy of it at the quantum's end, so that it exists in all of them before any
 * record names it. The payload: the fixed fields below, then the address space's new
 * page tables (frame, directory index, the PDE: three words each), its new user mappings
 * (virtual page, the PTE: two words each) and its new private frames (one word each).
 */
import type { RecordBus, RecordSource } from '../bus.js';

export const M_FORK = 14;

/** Words before the lists. */
export const FORK_FIXED = 15;

export interface Fork {
  pid: number;
  parent: number;
  /** The vCPU whose run queue it starts on. */
  cpu: number;
  /** Its program (the kernel's index). */
  exe: number;
  /** The argument its parent gave it (Task.arg). */
  arg: number;
  /** Its address space's id, and 1 if the fork made that address space. */
  mm: number;
  newMm: number;
  /** The new address space's page directory frame. */
  pdFrame: number;
  kstackVpn: number;
  taskStructVpn: number;
  stackVpn: number;
  dataVpn: number;
  /** Counts of the lists after the fixed words. */
  nPts: number;
  nVpns: number;
  nPrivate: number;
  /** Where the lists start in the record's array. */
  lists: number;
}

/** Start a fork record with lists of the given lengths; returns where its payload goes in `bus.d`. */
export function emitFork(bus: RecordBus, src: RecordSource, nPts: number, nVpns: number, nPrivate: number): number {
  return bus.emit(src, M_FORK, FORK_FIXED + 3 * nPts + 2 * nVpns + nPrivate);
}

export function readFork(d: Float64Array, at: number, out: Fork): Fork {
  out.pid = d[at]! | 0;
  out.parent = d[at + 1]! | 0;
  out.cpu = d[at + 2]! | 0;
  out.exe = d[at + 3]! | 0;
  out.arg = d[at + 4]! | 0;
  out.mm = d[at + 5]! | 0;
  out.newMm = d[at + 6]! | 0;
  out.pdFrame = d[at + 7]! | 0;
  out.kstackVpn = d[at + 8]! | 0;
  out.taskStructVpn = d[at + 9]! | 0;
  out.stackVpn = d[at + 10]! | 0;
  out.dataVpn = d[at + 11]! | 0;
  out.nPts = d[at + 12]! | 0;
  out.nVpns = d[at + 13]! | 0;
  out.nPrivate = d[at + 14]! | 0;
  out.lists = at + FORK_FIXED;
  return out;
}
