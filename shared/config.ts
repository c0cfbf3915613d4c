/**
 * Run configuration: the schema, its defaults and its validation, all built from the
 * table of fields in config-fields.ts.
 *
 * A config names one simulated VM (mode, vCPUs, memory, MMU sizes), one guest
 * workload and one cost profile. Validation errors name the field, the value
 * given and what is allowed, in one line each.
 */
import { z } from 'zod';
import { FIELDS, type FieldSpec } from './config-fields.js';
import { ConfigError } from './config-error.js';

export { ConfigError, formatValue, notAllowed } from './config-error.js';

export { MODES, MODE_TRAITS, PINNED_ROOT_FIXES, WORKLOADS } from './modes.js';
export type { Mode, ModeTraits, PinnedRootFix, Workload } from './modes.js';
export { DEFAULT_LOOPS, FIELDS, HACKBENCH_GROUP_TASKS, type FieldOption, type FieldSpec } from './config-fields.js';
import type { Workload } from './modes.js';

type Fields = typeof FIELDS;

const shape = Object.fromEntries(Object.entries(FIELDS).map(([name, f]) => [name, f.schema])) as { [K in keyof Fields]: Fields[K]['schema'] };

export const configSchema = z.object(shape).strict();

/** A fully resolved run configuration (what every result records); the fields are described in config-fields.ts. */
export type SimConfig = z.infer<typeof configSchema>;

/** The config fields, in the order of a resolved config's keys. */
export const CONFIG_FIELDS = Object.keys(FIELDS) as (keyof SimConfig)[];

/** The table's entries, each seen as a plain FieldSpec. */
export const FIELD_SPECS: Readonly<Record<keyof SimConfig, FieldSpec>> = FIELDS;

/** Whether `name` is a config field (own entries only: not "constructor" and the like). */
export function isConfigField(name: string): name is keyof SimConfig {
  return Object.hasOwn(FIELDS, name);
}

/** What a field allows, in words, for error messages. */
export function allowedOf(field: keyof SimConfig): string {
  return FIELD_SPECS[field].allowed;
}

/** The fields with a default of their own (`loops` depends on the workload). */
type DefaultedField = { [K in keyof Fields]: Fields[K] extends { readonly default: unknown } ? K : never }[keyof Fields];

export const DEFAULTS = Object.fromEntries(
  CONFIG_FIELDS.flatMap((name) => (FIELD_SPECS[name].default === undefined ? [] : [[name, FIELD_SPECS[name].default]])),
) as { readonly [K in DefaultedField]: SimConfig[K] };

/**
 * Fill defaults, derive dependent fields, validate. Throws ConfigError on the
 * first bad field (in schema order).
 */
export function resolveConfig(partial: Partial<SimConfig>): SimConfig {
  const workload: string = partial.workload ?? DEFAULTS.workload;
  const defaults: Record<string, unknown> = {};
  for (const name of CONFIG_FIELDS) {
    const f = FIELD_SPECS[name];
    if (f.defaultFor) defaults[name] = f.defaultFor(workload);
    else if (f.default !== undefined) defaults[name] = f.default;
  }
  const merged: Record<string, unknown> = { ...defaults, ...stripUndefined(partial) };
  for (const name of CONFIG_FIELDS) {
    const derived = FIELD_SPECS[name].derive?.(merged);
    if (derived !== undefined) merged[name] = derived;
  }
  const parsed = configSchema.safeParse(merged, { reportInput: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      throw new ConfigError(issue.keys[0]!, 'unknown field', `one of ${CONFIG_FIELDS.join(', ')}`);
    }
    const field = String(issue.path[0]);
    throw new ConfigError(field, issue.input, isConfigField(field) ? allowedOf(field) : issue.message);
  }
  const cfg = parsed.data;
  if (cfg.vcpus > 1 && !SMP_WORKLOADS.includes(cfg.workload)) {
    throw new ConfigError('vcpus', cfg.vcpus, `1 for ${cfg.workload} (it runs on one vCPU); more vCPUs run ${SMP_WORKLOADS.join(', ')}`);
  }
  // arch/i386/kernel/i8253.c registers the PIT clocksource only with one possible CPU ("PIT does not scale").
  if (cfg.vcpus > 1 && cfg.clocksource === 'pit') {
    throw new ConfigError('clocksource', cfg.clocksource, 'tsc or acpi_pm with more than one vCPU (2.6.20 registers the PIT clocksource on one CPU only)');
  }
  return cfg;
}

/** Workloads that run on a multi-vCPU VM (the others model one CPU: one disk on vCPU 0's i8259A, a host-CPU figure from one clock, a fork chain). */
export const SMP_WORKLOADS: readonly Workload[] = ['ctxswitch', 'pipe', 'hackbench'];

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
