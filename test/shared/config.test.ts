/**
 * The config built from its table of fields: key order (printed and hashed), defaults,
 * and an option per field that names a flag of its own.
 */
import { describe, expect, it } from 'vitest';
import { CONFIG_FIELDS, ConfigError, DEFAULTS, DEFAULT_LOOPS, FIELD_SPECS, HACKBENCH_GROUP_TASKS, configSchema, resolveConfig } from '../../shared/config.js';

/** The key order of a resolved config's fields so far: results print it, stored results have it (a new field may go anywhere). */
const KEY_ORDER = [
  'mode', 'workload', 'tasks', 'groups', 'loops', 'thread', 'pipe', 'cacheSize', 'mmuPages', 'hz',
  'vcpus', 'quantum', 'seed', 'profile', 'memoryMiB', 'pinnedRootFix', 'exitFlush', 'check', 'io', 'sndbuf',
];

describe('config fields', () => {
  it('resolve in the table order, which is the schema order', () => {
    expect(CONFIG_FIELDS.filter((f) => KEY_ORDER.includes(f))).toEqual(KEY_ORDER);
    expect(Object.keys(configSchema().shape)).toEqual(CONFIG_FIELDS);
    expect(Object.keys(resolveConfig({ workload: 'hackbench', loops: 3, seed: 9, tasks: 5 }))).toEqual(CONFIG_FIELDS);
  });

  it('have defaults, except loops, which depends on the workload; tasks is derived for some workloads', () => {
    expect(Object.keys(DEFAULTS)).toEqual(CONFIG_FIELDS.filter((f) => f !== 'loops'));
    expect(resolveConfig({})).toMatchObject({ ...DEFAULTS, loops: DEFAULT_LOOPS[DEFAULTS.workload] });
    expect(resolveConfig({ workload: 'idle' })).toMatchObject({ loops: DEFAULT_LOOPS.idle, tasks: 1 });
    expect(resolveConfig({ workload: 'pipe', tasks: 9 }).tasks).toBe(2);
    expect(resolveConfig({ workload: 'hackbench', groups: 3, tasks: 7 }).tasks).toBe(3 * HACKBENCH_GROUP_TASKS);
    expect(resolveConfig({ workload: 'ctxswitch', tasks: 7 }).tasks).toBe(7);
  });

  it('each default is allowed by its own schema', () => {
    for (const [f, v] of Object.entries(DEFAULTS)) expect(FIELD_SPECS[f as keyof typeof FIELD_SPECS].schema().safeParse(v).success).toBe(true);
  });

  it('options have flags and places of their own; choice options have their choices', () => {
    const options = CONFIG_FIELDS.map((f) => FIELD_SPECS[f].option).filter((o) => o !== undefined);
    expect(new Set(options.map((o) => o.flag)).size).toBe(options.length);
    expect(new Set(options.map((o) => o.order)).size).toBe(options.length);
    for (const f of CONFIG_FIELDS) if (FIELD_SPECS[f].option?.kind === 'choice') expect(FIELD_SPECS[f].choices?.length).toBeGreaterThan(0);
  });

  it('a bad value is a ConfigError with the field, the value and what is allowed as data', () => {
    const err = (() => {
      try {
        resolveConfig({ cacheSize: 0 });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ field: 'cacheSize', value: 0, allowed: 'an integer from 1 to 1024', detail: '0 is not allowed; expected an integer from 1 to 1024' });
    expect((err as ConfigError).message).toBe('cacheSize: 0 is not allowed; expected an integer from 1 to 1024');
  });
});
