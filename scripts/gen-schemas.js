#!/usr/bin/env node
// Write docs/schema/*.json from the zod schemas in the code (npm run schemas; run `npm run build` first).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonSchemas } from '../dist/coordinator/store/json-schemas.js';

const dir = fileURLToPath(new URL('../docs/schema/', import.meta.url));
mkdirSync(dir, { recursive: true });
for (const [file, schema] of Object.entries(jsonSchemas())) {
  writeFileSync(join(dir, file), JSON.stringify(schema, null, 2) + '\n');
  process.stdout.write(`wrote docs/schema/${file}\n`);
}
