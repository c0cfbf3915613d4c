/**
 * Run configuration: the schema, its defaults and its validation, all built from the
 * table of fields in config-fields.ts.
 *
 * A config names one simulated VM (mode, vCPUs, memory, MMU sizes), one guest
 * workload and one cost profile. Validation errors name the field, the value
 * given and what is allowed, in one line each.
 */
import { TraceFileError, loadTraceFile } from './trace/file.js';
import { TraceParseError } from './trace/parse.js';
import type { z } from 'zod';
import { memo, zod } from './lazy-lib.js';
import { FIELDS, MAX_VCPUS, type FieldSpec } from './config-fields.js';
import { PROFILES, type HardwareFeatures } from './costs.js';
import { archesOf, MODE_TRAITS } from './modes.js';
import { ConfigError, formatValue } from './errors.js';

export { ConfigError, formatValue, notAllowed } from './errors.js';

export { ARCHES, MODES, MODES_2007, MODE_TRAITS, PINNED_ROOT_FIXES, WORKLOADS } from './modes.js';
export type { Arch, Mode, ModeTraits, PinnedRootFix, Workload } from './modes.js';
export { DEFAULT_LOOPS, FIELDS, HACKBENCH_GROUP_TASKS, MAX_VCPUS, flagOf, type FieldOption, type FieldScope, type FieldSpec } from './config-fields.js';
import type { Workload } from './modes.js';

type Fields = typeof FIELDS;

type Shape = { [K in keyof Fields]: ReturnType<Fields[K]['schema']> };

/** The schema of a resolved config, built on its first call (zod loads then: lazy-lib.ts). */
export const configSchema = memo(() => zod().object(Object.fromEntries(Object.entries(FIELDS).map(([name, f]) => [name, f.schema()])) as Shape).strict());

/** A fully resolved run configuration (what every result records); the fields are described in config-fields.ts. */
export type SimConfig = z.infer<ReturnType<typeof configSchema>>;

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

/** How far resolveConfig goes. */
export interface ResolveOptions {
  /**
   * false: the trace workload's file is not read, so its sha256 stays as given and its
   * CPUs are not counted (vcpus stays as given, or the number of --cpus chosen); what
   * the file holds is checked when a run is planned. `list` counts an experiment's runs
   * so without parsing its trace: the configs of one trace file differ in nothing the
   * file fills in. Default true.
   */
  readonly traceFile?: boolean;
}

/**
 * Fill defaults, derive dependent fields, validate. Throws ConfigError on the
 * first bad field (in schema order).
 */
export function resolveConfig(partial: Partial<SimConfig>, options: ResolveOptions = {}): SimConfig {
  const workload: string = partial.workload ?? DEFAULTS.workload;
  const defaults: Record<string, unknown> = {};
  for (const name of CONFIG_FIELDS) {
    const f = FIELD_SPECS[name];
    if (f.defaultFor) defaults[name] = f.defaultFor(workload);
    else if (f.default !== undefined) defaults[name] = f.default;
  }
  const given = stripUndefined(partial);
  const merged: Record<string, unknown> = { ...defaults, ...given };
  for (const name of CONFIG_FIELDS) {
    const of = FIELD_SPECS[name].defaultOf;
    if (of && !(name in given)) merged[name] = of(merged);
  }
  for (const name of CONFIG_FIELDS) {
    const derived = FIELD_SPECS[name].derive?.(merged);
    if (derived !== undefined) merged[name] = derived;
  }
  const parsed = configSchema().safeParse(merged, { reportInput: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      const allowed = `one of ${CONFIG_FIELDS.join(', ')}`;
      throw new ConfigError(issue.keys[0]!, issue.keys[0], allowed, `is not a config field; expected ${allowed}`);
    }
    const field = String(issue.path[0]);
    throw new ConfigError(field, issue.input, isConfigField(field) ? allowedOf(field) : issue.message);
  }
  const cfg = parsed.data;
  if (cfg.workload === 'trace') resolveTrace(cfg, partial, options.traceFile !== false);
  if (cfg.vcpus > 1 && !SMP_WORKLOADS.includes(cfg.workload)) {
    throw new ConfigError('vcpus', cfg.vcpus, `1 for ${cfg.workload} (it runs on one vCPU); more vCPUs run ${SMP_WORKLOADS.join(', ')}`);
  }
  // arch/i386/kernel/i8253.c registers the PIT clocksource only with one possible CPU ("PIT does not scale").
  if (cfg.vcpus > 1 && cfg.clocksource === 'pit') {
    throw new ConfigError('clocksource', cfg.clocksource, 'tsc or acpi_pm with more than one vCPU (2.6.20 registers the PIT clocksource on one CPU only)');
  }
  checkHardware(cfg);
  return cfg;
}

/** What the mode, the guest and the profile's CPU must agree on. */
function checkHardware(cfg: SimConfig): void {
  const traits = MODE_TRAITS[cfg.mode];
  const arches = archesOf(traits);
  if (!arches.includes(cfg.arch)) {
    const why = traits.modern ? 'KVM keeps previous roots only for 64-bit guests' : 'the 2007 hypervisors of the model run the 32-bit guest of the study';
    throw new ConfigError('arch', cfg.arch, `${arches.join(' or ')} in ${cfg.mode} (${why})`);
  }
  const features = PROFILES[cfg.profile]!.features;
  if (traits.tdp && !features.ept) throw new ConfigError('mode', cfg.mode, `a mode the profile's CPU runs: ${cfg.profile} has no EPT/NPT (profiles with it: ${profilesWith('ept')})`);
  if (cfg.pcid && fieldApplies('pcid', cfg) && !features.pcid) throw new ConfigError('pcid', cfg.pcid, `false with ${cfg.profile}, whose CPU has no PCID (profiles with it: ${profilesWith('pcid')})`);
  if (cfg.vpid && fieldApplies('vpid', cfg) && !features.vpid) throw new ConfigError('vpid', cfg.vpid, `false with ${cfg.profile}, whose CPU has no VPID/ASID (profiles with it: ${profilesWith('vpid')})`);
  if (cfg.vcpus > 1 && (traits.modern || cfg.arch === 'x86-64')) {
    throw new ConfigError('vcpus', cfg.vcpus, `1 in ${cfg.mode} with an ${cfg.arch} guest (the multi-vCPU model is the 2007 one's: a 32-bit guest on native, qemu or the 2007 KVM modes)`);
  }
  if (cfg.workload === 'pagefault' && (traits.emulated || (traits.vmx && !traits.modern))) {
    throw new ConfigError('workload', cfg.workload, `a workload ${cfg.mode} runs: pagefault needs guest page faults, which the 2007 shadow MMUs and QEMU of the model do not deliver (native, kvm-ept, kvm-shadow, kvm-shadow-pv do)`);
  }
}

const profilesWith = (f: keyof HardwareFeatures): string =>
  Object.values(PROFILES)
    .filter((p) => p.features[f])
    .map((p) => p.name)
    .join(', ') || 'none';

/** Workloads that run on a multi-vCPU VM (the others model one CPU: one disk on vCPU 0's i8259A, a host-CPU figure from one clock, a fork chain). */
export const SMP_WORKLOADS: readonly Workload[] = ['ctxswitch', 'pipe', 'hackbench', 'trace'];

/**
 * The trace workload's fields from its file: the sha256 of its bytes (a stored config's
 * must still match), and one vCPU per replayed CPU of the trace.
 */
function resolveTrace(cfg: SimConfig, partial: Partial<SimConfig>, readFile: boolean): void {
  if (cfg.trace === '') throw new ConfigError('trace', '', 'a path to a trace file (the trace workload replays one)');
  if (!readFile) {
    if (cfg.traceCpus !== '') cfg.vcpus = cfg.traceCpus.split(',').length;
    return;
  }
  let loaded;
  try {
    loaded = loadTraceFile(cfg.trace);
  } catch (err) {
    if (err instanceof TraceFileError) throw new ConfigError('trace', cfg.trace, `a readable trace file (${err.reason})`);
    if (err instanceof TraceParseError) throw new ConfigError('trace', cfg.trace, `a trace file (line ${err.line}: expected ${err.expected})`);
    throw err;
  }
  if (cfg.traceSha256 !== '' && cfg.traceSha256 !== loaded.sha256) {
    throw new ConfigError('traceSha256', cfg.traceSha256, `${loaded.sha256}, the sha256 of ${cfg.trace} as it is now (the file changed since the config was made)`);
  }
  cfg.traceSha256 = loaded.sha256;
  const n = loaded.trace.cpus;
  const chosen = cfg.traceCpus === '' ? [] : cfg.traceCpus.split(',').map(Number);
  for (const c of chosen) {
    if (c >= n) throw new ConfigError('traceCpus', cfg.traceCpus, `CPUs of the trace, 0 to ${n - 1} (it has ${n})`);
  }
  if (new Set(chosen).size !== chosen.length) throw new ConfigError('traceCpus', cfg.traceCpus, 'a comma list of distinct CPUs of the trace');
  const vcpus = chosen.length > 0 ? chosen.length : n;
  if (vcpus > MAX_VCPUS) throw new ConfigError('traceCpus', cfg.traceCpus, `at most ${MAX_VCPUS} CPUs of the trace's ${n} (choose them with --cpus)`);
  if (partial.vcpus !== undefined && partial.vcpus !== vcpus) throw new ConfigError('vcpus', partial.vcpus, `${vcpus}: one vCPU per replayed CPU of the trace (--cpus chooses them)`);
  cfg.vcpus = vcpus;
}


function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

// ---------------------------------------------------------------------------------------
// Where a field has an effect (the table's `appliesTo`)

/**
 * Why `cfg` ignores `field` ("on hackbench (its tasks come from --groups)", "in native",
 * "with one vCPU"), or undefined if the field has an effect on it.
 */
export function ignoredBecause(field: keyof SimConfig, cfg: Readonly<Record<string, unknown>>): string | undefined {
  const scope = FIELD_SPECS[field].appliesTo;
  if (!scope) return undefined;
  let because: string;
  if (scope.workloads && !(scope.workloads as readonly unknown[]).includes(cfg.workload)) because = `on ${String(cfg.workload)}`;
  else if (scope.modes && !(scope.modes as readonly unknown[]).includes(cfg.mode)) because = `in ${String(cfg.mode)}`;
  else if (scope.when && !scope.when.test(cfg)) because = scope.when.not;
  else return undefined;
  const more = scope.why?.(cfg);
  return more ? `${because} (${more})` : because;
}

/** Whether `field` has an effect on a run of `cfg`. */
export const fieldApplies = (field: keyof SimConfig, cfg: Readonly<Record<string, unknown>>): boolean => ignoredBecause(field, cfg) === undefined;

/** Where a field has an effect, in words: "to hackbench with unix sockets", "in kvm-paravirt". */
export function appliesWhere(field: keyof SimConfig): string {
  const scope = FIELD_SPECS[field].appliesTo;
  if (!scope) return 'to every config';
  const parts: string[] = [];
  if (scope.workloads) parts.push(`to ${scope.workloads.join(', ')}`);
  if (scope.modes) parts.push(`in ${scope.modes.join(', ')}`);
  if (scope.when) parts.push(scope.when.applies);
  return parts.join(' ');
}

/** A field given for a config that ignores it: "40 has no effect on hackbench (...); it applies to ctxswitch". */
export class FieldIgnored extends ConfigError {
  constructor(
    field: keyof SimConfig,
    value: unknown,
    /** Why the config ignores it, in words (see ignoredBecause). */
    readonly because: string,
  ) {
    const allowed = `it applies ${appliesWhere(field)}`;
    super(field, value, allowed, `${formatValue(value)} has no effect ${because}; ${allowed}`);
  }
}

/** Refuse a field that was given (`given`: the fields set explicitly) for a config that ignores it. */
export function checkGivenApply(cfg: SimConfig, given: Iterable<string>): void {
  for (const field of given) {
    if (!isConfigField(field)) continue;
    const because = ignoredBecause(field, cfg);
    if (because !== undefined) throw new FieldIgnored(field, cfg[field], because);
  }
}

/** The value a field takes in `cfg` when it is not given: derived, the workload's default, or the default. */
function unsetValue(field: keyof SimConfig, cfg: SimConfig): unknown {
  const spec = FIELD_SPECS[field];
  return spec.derive?.(cfg) ?? (spec.defaultFor ? spec.defaultFor(cfg.workload) : spec.defaultOf ? spec.defaultOf(cfg) : spec.default);
}

/**
 * The config with every field it ignores set to what it would be if not given, so that
 * configs that run the same are equal (and have one store key); and the fields so set.
 */
export function withoutIgnored(cfg: SimConfig): { config: SimConfig; reset: (keyof SimConfig)[] } {
  const out: Record<string, unknown> = { ...cfg };
  const reset: (keyof SimConfig)[] = [];
  // A field's scope may depend on another field (sndbuf on pipe): repeat until nothing changes.
  for (let round = 0; round < CONFIG_FIELDS.length; round++) {
    let changed = false;
    for (const field of CONFIG_FIELDS) {
      if (fieldApplies(field, out)) continue;
      const v = unsetValue(field, out as SimConfig);
      if (v !== undefined && v !== out[field]) {
        out[field] = v;
        if (!reset.includes(field)) reset.push(field);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return { config: out as SimConfig, reset };
}
