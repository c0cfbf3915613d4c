import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { yaml } from '../../shared/lazy-lib.js';
import { describe, expect, it } from 'vitest';
import { jsonSchemas } from '../../coordinator/store/json-schemas.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const shipped = (f: string): unknown => JSON.parse(readFileSync(join(root, 'docs/schema', f), 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });

describe('docs/schema: JSON Schemas generated from the code', () => {
  it('the shipped files are what the code generates (npm run schemas)', () => {
    const generated = jsonSchemas();
    expect(readdirSync(join(root, 'docs/schema')).sort()).toEqual(Object.keys(generated).sort());
    for (const [file, schema] of Object.entries(generated)) expect(shipped(file), file).toEqual(JSON.parse(JSON.stringify(schema)));
  });

  it('every shipped experiment file is valid against experiment.schema.json; a bad one is not', () => {
    const validate = ajv.compile(shipped('experiment.schema.json') as object);
    const files = readdirSync(join(root, 'experiments')).filter((f) => /\.(ya?ml|json)$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(11);
    for (const f of files) {
      const doc: unknown = yaml().parse(readFileSync(join(root, 'experiments', f), 'utf8'));
      expect(validate(doc), `${f}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
    expect(validate({ name: 'x', description: '', grid: { tasks: [] } })).toBe(false);
    expect(validate({ name: 'x', description: '', runs: [{}], colour: 'red' })).toBe(false);
  });

  it('a real `run --json` output is valid against run-result.schema.json; one without its metric is not', () => {
    const r = spawnSync(process.execPath, [join(root, 'bin/vcpusim.js'), 'run', '--mode', 'kvm-paravirt', '--tasks', '2', '--loops', '20', '--json'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    const validate = ajv.compile(shipped('run-result.schema.json') as object);
    expect(validate(doc), ajv.errorsText(validate.errors)).toBe(true);
    const { metric: _m, ...broken } = doc;
    expect(validate(broken)).toBe(false);
    expect(validate({ ...doc, config: { ...(doc.config as object), mode: 'xen' } })).toBe(false);
  });
});
