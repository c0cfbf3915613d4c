/**
 * zod and yaml come from shared/lazy-lib.ts only: no file of coordinator/, shared/,
 * worker/, bench/ or test/ imports a value of either (a static import would load it at
 * start-up, and a second import path could load a second zod, whose toJSONSchema would
 * not know the schemas of the first). Type-only imports are fine.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { tsFiles } from '../support/ts-files.js';
import { configSchema } from '../../shared/config.js';
import { memo, yaml, zod } from '../../shared/lazy-lib.js';
import { experimentSchema } from '../../coordinator/experiments/schema.js';
import { resultSchema } from '../../coordinator/store/record.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ACCESSOR = 'shared/lazy-lib.ts';

const LIB = /^(zod|yaml)(\/|$)/;

/** Every place a file takes a value of zod or yaml: a static import or re-export that is not type-only, an `import()` or a `require()`. */
function valueUses(file: string, text = readFileSync(file, 'utf8')): string[] {
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const at = (n: ts.Node, what: string) => out.push(`${relative(ROOT, file)}:${src.getLineAndCharacterOfPosition(n.getStart()).line + 1}: ${what}`);
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier) && LIB.test(n.moduleSpecifier.text)) {
      const c = n.importClause;
      const typeOnly = c !== undefined && (c.isTypeOnly || (c.name === undefined && c.namedBindings !== undefined && ts.isNamedImports(c.namedBindings) && c.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!typeOnly) at(n, n.getText());
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier) && LIB.test(n.moduleSpecifier.text) && !n.isTypeOnly) {
      at(n, n.getText());
    } else if (ts.isCallExpression(n) && (n.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(n.expression) && n.expression.text === 'require'))) {
      const arg = n.arguments[0];
      if (arg && ts.isStringLiteral(arg) && LIB.test(arg.text)) at(n, n.getText());
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
  return out;
}

describe('zod and yaml load on first use', () => {
  const files = ['coordinator', 'shared', 'worker', 'bench', 'test'].flatMap((d) => tsFiles(join(ROOT, d)));

  it('no source file but the accessor takes a value of zod or yaml', () => {
    expect(files.length).toBeGreaterThan(40);
    const uses = files.filter((f) => relative(ROOT, f) !== ACCESSOR).flatMap((f) => valueUses(f));
    expect(uses).toEqual([]);
  });

  it('the check sees a value import, a re-export, an import() and a require, and passes a type-only import', () => {
    const uses = valueUses(join(ROOT, ACCESSOR));
    expect(uses.map((u) => u.replace(/^.*?: /, ''))).toEqual(["require('zod')", "require('yaml')"]);
    const text = ["import { z } from 'zod';", "import { type z as Z, parse } from 'yaml';", "export { z } from 'zod/v4';", "void import('yaml');", "import type { z as T } from 'zod';", "import { type Node } from 'yaml';"].join('\n');
    expect(valueUses(join(ROOT, 'x.ts'), text).map((u) => u.replace(/^.*?: /, ''))).toEqual([
      "import { z } from 'zod';",
      "import { type z as Z, parse } from 'yaml';",
      "export { z } from 'zod/v4';",
      "import('yaml')",
    ]);
    expect(readFileSync(join(ROOT, 'shared/config.ts'), 'utf8')).toContain("import type { z } from 'zod';");
    expect(valueUses(join(ROOT, 'shared/config.ts'))).toEqual([]);
  });

  it('every schema is built by the accessor\'s zod, whose toJSONSchema reads it', () => {
    const z = zod();
    for (const s of [configSchema(), experimentSchema(), resultSchema()]) expect(s).toBeInstanceOf(z.ZodObject);
    expect(configSchema()).toBe(configSchema());
    expect(Object.keys((z.toJSONSchema(configSchema()) as { properties: object }).properties)).toEqual(Object.keys(configSchema().shape));
    expect(yaml().parse('a: [1, 2]')).toEqual({ a: [1, 2] });
  });

  it('memo builds once, on the first call', () => {
    let builds = 0;
    const get = memo(() => ({ n: ++builds }));
    expect(builds).toBe(0);
    expect(get()).toBe(get());
    expect(builds).toBe(1);
  });
});
