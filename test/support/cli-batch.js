/**
 * Runs many command lines of the built CLI in one process, one after another, each in a
 * working directory of its own, and prints what each gave as one JSON document:
 * `[{ code, stdout, stderr, ms }]`. The hostile-input tests run their table through it, so
 * that a hundred cases cost one start of Node (half a second each otherwise); a part of
 * the table also runs as separate processes of bin/vcpusim.js.
 *
 * Usage: node cli-batch.js <cases.json>, where the file holds `[{ cwd, args }]`.
 * Whatever the CLI writes to stdout or stderr (warnings included) is captured per case.
 */
import { readFileSync } from 'node:fs';
import { main } from '../../dist/coordinator/cli/main.js';

const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const realOut = process.stdout.write.bind(process.stdout);
const realErr = process.stderr.write.bind(process.stderr);
const results = [];
for (const c of cases) {
  let stdout = '';
  let stderr = '';
  process.stdout.write = (chunk) => {
    stdout += String(chunk);
    return true;
  };
  process.stderr.write = (chunk) => {
    stderr += String(chunk);
    return true;
  };
  process.chdir(c.cwd);
  const t0 = Date.now();
  let code;
  try {
    code = await main([process.execPath, 'vcpusim', ...c.args]);
  } catch (err) {
    code = 'threw';
    stderr += String(err && err.stack);
  }
  // What the CLI leaves for later (a warning is printed on the next tick) belongs to this case.
  await new Promise((resolve) => setImmediate(resolve));
  process.stdout.write = realOut;
  process.stderr.write = realErr;
  process.exitCode = undefined;
  results.push({ code, stdout, stderr, ms: Date.now() - t0 });
}
realOut(JSON.stringify(results) + '\n');
