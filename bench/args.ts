/**
 * The command lines of the comparison tools (ab.ts, tlb-replay.ts): a refusal is one line
 * on stderr, prefixed with the tool's name, and exit 2.
 */

/** Refuse with `line` (prefixed `tool: `) and exit 2. */
export function failer(tool: string): (line: string) => never {
  return (line: string): never => {
    process.stderr.write(`${tool}: ${line}\n`);
    process.exit(2);
  };
}

/** The config argument as JSON, or a refusal. */
export function configArg(text: string, fail: (line: string) => never): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return fail(`config: not JSON: ${text}`);
  }
}

/** The rounds argument: a whole number from 1 to 1000, or a refusal. */
export function roundsArg(text: string, fail: (line: string) => never): number {
  const rounds = Number(text);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 1000) fail(`rounds: ${text} is not a whole number from 1 to 1000`);
  return rounds;
}
