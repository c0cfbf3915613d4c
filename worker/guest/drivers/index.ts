/**
 * The device drivers the guest kernel loads at boot, by name (what its .config builds
 * in). Each claims its interrupt line and sets its device up through the boot CPU's port
 * I/O; workloads reach a driver through the kernel (`k.drivers.ide`). A new device's
 * driver is a file here and an entry in DRIVERS: the kernel facade loads them all.
 */
import type { Costs } from '../../../shared/costs.js';
import type { SyscallEntry } from '../entry.js';
import type { PortIo } from '../io.js';
import type { Irq } from '../irq/irq.js';
import type { Scheduler } from '../sched/core.js';
import { IdeDriver } from './ide.js';

/** What a driver is built from. */
export interface DriverContext {
  readonly irq: Irq;
  readonly sched: Scheduler;
  readonly entry: SyscallEntry;
  readonly c: Costs;
}

export interface Driver {
  /** Claim the interrupt line and set the device up, through `io` (at boot). */
  boot(io: PortIo): void;
}

export const DRIVERS = {
  /** The primary IDE channel's disk (drivers/ide). */
  ide: (ctx: DriverContext) => new IdeDriver(ctx.irq, ctx.sched, ctx.entry, ctx.c),
} satisfies Record<string, (ctx: DriverContext) => Driver>;

export type Drivers = { readonly [K in keyof typeof DRIVERS]: ReturnType<(typeof DRIVERS)[K]> };

/** Build every driver, then boot them in DRIVERS order. */
export function loadDrivers(ctx: DriverContext, io: PortIo): Drivers {
  const out: Record<string, Driver> = {};
  for (const [name, make] of Object.entries(DRIVERS)) out[name] = make(ctx);
  for (const d of Object.values(out)) d.boot(io);
  return out as Drivers;
}
