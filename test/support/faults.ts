/**
 * Fault injection for tests of the coordinator (see fault-entry.js for the faults
 * VCPUSIM_FAULT names).
 */

/** Worker entry to give a SimPool (`entry`): the built entry with faults injected. */
export const FAULT_ENTRY = new URL('./fault-entry.js', import.meta.url);

/** Preload for a spawned CLI (`node --import <href>`): its pools use FAULT_ENTRY. */
export const FAULT_HOOKS = new URL('./fault-hooks.js', import.meta.url);
