/**
 * JSON Schemas of what vcpusim reads and writes, generated from the zod schemas the code
 * validates with (`z.toJSONSchema`), so the documents in docs/schema/ cannot drift from
 * the code: `npm run schemas` writes them, and a test regenerates and compares them.
 * toJSONSchema comes from the one zod instance that built the schemas (shared/lazy-lib.ts).
 */
import type { z } from 'zod';
import { configSchema } from '../../shared/config.js';
import { zod } from '../../shared/lazy-lib.js';
import { experimentSchema } from '../experiments/schema.js';
import { resultSchema } from './record.js';

/** File name in docs/schema/ → schema. */
export function jsonSchemas(): Record<string, unknown> {
  const withId = (id: string, title: string, s: z.ZodType) => ({ ...zod().toJSONSchema(s, { io: 'input', unrepresentable: 'any' }), $id: `https://vcpusim.invalid/schema/${id}`, title });
  return {
    'experiment.schema.json': withId('experiment.schema.json', 'vcpusim experiment file (experiments/*.yaml, *.json)', experimentSchema()),
    'config.schema.json': withId('config.schema.json', 'vcpusim resolved run configuration', configSchema()),
    'run-result.schema.json': withId('run-result.schema.json', 'vcpusim run --json output (one run\'s statistics)', resultSchema().extend({ config: configSchema() })),
  };
}
