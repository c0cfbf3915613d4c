/**
 * What a stored run is, and the checks that make a document one: a record counts only
 * if its key is the hash of its config and the model version, its model version is this
 * one, its config is the config the key was made from (and resolves to itself), and its
 * result has every statistic a report reads. The store (store.ts) applies them to what it
 * finds on disk, and the queue's coordinator to what a worker sends back.
 */
import { createHash } from 'node:crypto';
import { configSchema, resolveConfig, type SimConfig } from '../../shared/config.js';
import { memo, zod } from '../../shared/lazy-lib.js';
import { SCHEMA_VERSION, STAT_GROUPS, VCPU_GROUPS, VM_GROUPS, type OptionalGroupName, type RunResult, type StatGroupName } from '../../shared/stats.js';
import { MODEL_VERSION } from '../../worker/model.js';

/** One stored run. */
export interface RunRecord {
  /** Hash of config + model version; also the file name. */
  key: string;
  modelVersion: string;
  /** The config the run was asked for (the key's input; equal to result.config). */
  config: SimConfig;
  /** Host seconds the run took (informative; not part of the key). */
  hostSeconds?: number;
  result: RunResult;
}

/** JSON with object keys sorted, so equal configs hash equally whatever their key order. */
/** JSON with object keys sorted: equal for equal values whatever the key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The record key of a resolved config: sha256 of the config and model version, 20 hex digits. */
export function configKey(cfg: SimConfig, modelVersion = MODEL_VERSION): string {
  return createHash('sha256').update(canonicalJson({ modelVersion, config: cfg })).digest('hex').slice(0, 20);
}

const KEY = /^[0-9a-f]{20}$/;

const OPTIONAL_GROUPS: readonly StatGroupName[] = ['walk', 'roots', 'asid'] satisfies OptionalGroupName[];

// The statistics a report, a plot or an exit report reads: every group's fields, the
// metric, the exits by reason, the times; a vCPU's the same. Other keys may be present.
// Built on their first call (zod loads then: shared/lazy-lib.ts).
const recordSchemas = memo(() => {
  const z = zod();
  const groupSchema = (name: StatGroupName) => z.object(Object.fromEntries(Object.keys(STAT_GROUPS[name]).map((f) => [f, z.number()])));
  // A group only some runs have (stats.ts groupApplies) may be absent.
  const groupsSchema = (names: readonly StatGroupName[]) => Object.fromEntries(names.map((g) => [g, OPTIONAL_GROUPS.includes(g) ? groupSchema(g).optional() : groupSchema(g)]));
  const exitsSchema = z.object({ total: z.number(), byReason: z.record(z.string(), z.object({ count: z.number(), ns: z.number() })) });
  const timeStatsSchema = { count: z.number(), totalNs: z.number(), minNs: z.number(), maxNs: z.number(), meanNs: z.number(), stddevNs: z.number() };
  const exitDetailStatsSchema = {
    vmexit: z.record(z.string(), z.object(timeStatsSchema)),
    hltToEntry: z.object(timeStatsSchema).nullable(),
    ioport: z.array(z.object({ port: z.number(), dir: z.enum(['PIN', 'POUT']), ...timeStatsSchema })),
    tlbFlush: z.number(),
    signalExits: z.number(),
  };
  const result = z.object({
    schemaVersion: z.literal(SCHEMA_VERSION),
    config: z.record(z.string(), z.unknown()),
    metric: z.object({ name: z.string(), unit: z.string(), value: z.number() }),
    guestTimeNs: z.number(),
    hostCpuUtilisation: z.number(),
    exits: exitsSchema,
    ...groupsSchema([...VCPU_GROUPS, ...VM_GROUPS]),
    perVcpu: z.array(z.object({ vcpu: z.number(), guestTimeNs: z.number(), haltedNs: z.number(), exits: exitsSchema, ...groupsSchema(VCPU_GROUPS) })).min(1),
    exitDetail: z.object({ ...exitDetailStatsSchema, perVcpu: z.array(z.object({ vcpu: z.number(), ...exitDetailStatsSchema })) }),
  });
  const record = z.object({
    key: z.string(),
    modelVersion: z.string(),
    config: z.record(z.string(), z.unknown()),
    hostSeconds: z.number().nonnegative().optional(),
    result,
  });
  return { result, record };
});

/** The schema of a run's result (`run --json`, a record's `result`). */
export const resultSchema = () => recordSchemas().result;

/**
 * Why a parsed document is not the record of `cfg` stored under `key`, or undefined if
 * it is.
 */
export function recordProblem(raw: unknown, cfg: SimConfig, key: string): string | undefined {
  const r = recordSchemas().record.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.path.map(String).join('.');
    return `is not a complete record (${where ? `${where}: ` : ''}${issue.message.replace(/^Invalid input: /, '')})`;
  }
  const rec = r.data;
  if (rec.modelVersion !== MODEL_VERSION) return `is a record of another model version (${JSON.stringify(rec.modelVersion)}, not ${MODEL_VERSION})`;
  if (rec.key !== key) return KEY.test(rec.key) ? `holds the record of another config (key ${rec.key})` : 'is not a record: its key is not its file name';
  const want = canonicalJson(cfg);
  let resolved: SimConfig;
  try {
    resolved = resolveConfig(configSchema().parse(rec.config));
  } catch {
    return 'holds a config that does not resolve';
  }
  if (canonicalJson(rec.config) !== want || canonicalJson(resolved) !== want) return 'holds a config other than the one its key was made from';
  if (canonicalJson(rec.result.config) !== want) return "holds another config's result";
  return undefined;
}

