/**
 * The `vcpusim` command line: parse, run one command, write its output, and give the
 * process its exit code (outcome.ts) — the one place an outcome or an error becomes one.
 * Output: readable text, or with --json exactly one JSON document on stdout (everything
 * else goes to stderr); an error is one line on stderr and, with --json, a JSON error
 * document on stdout (errors.ts).
 */
import { CommanderError } from 'commander';
import { UsageError } from '../../shared/errors.js';
import { faultDoc, printError, userErrorDoc } from './errors.js';
import { EXIT_CODES, exitCodeOf, type Outcome } from './outcome.js';
import { closeEarly } from './early.js';
import { buildProgram } from './program.js';

/** Whether the command line asks for JSON on stdout (--json, or --format json), options only. */
function wantsJson(argv: readonly string[]): boolean {
  const args = argv.slice(2);
  const end = args.indexOf('--');
  const opts = end < 0 ? args : args.slice(0, end);
  return opts.some((a, i) => a === '--json' || a === '--format=json' || (a === '--format' && opts[i + 1] === 'json'));
}

/** The exit code of the command under way, known before its output is written (a reader that goes away ends it with this code). */
let pendingCode = EXIT_CODES.ok as number;

/**
 * A reader that goes away (`| head -1`) is no error. On stdout, where the output goes once
 * the runs are over, the command stops writing and exits with the code it has, quietly;
 * any other failure to write stdout ends it the same way with 1 if nothing failed before.
 * On stderr (progress, notes) nothing can be said any more: the command goes on without it.
 */
let outputGuarded = false;
function quietOnClosedOutput(): void {
  if (outputGuarded) return;
  outputGuarded = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    process.exit(err.code === 'EPIPE' ? pendingCode : pendingCode || EXIT_CODES.failed);
  });
  process.stderr.on('error', () => {});
}

/** Run the command line `argv` (as process.argv: node, script, arguments...); returns the exit code. bin/vcpusim.js calls it. */
export async function main(argv: string[]): Promise<number> {
  quietOnClosedOutput();
  let outcome: Outcome | undefined;
  const program = buildProgram((o) => {
    outcome = o;
  });
  const json = wantsJson(argv);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    await closeEarly();
    // Help and version exit 0.
    if (err instanceof CommanderError && err.exitCode === 0) return EXIT_CODES.ok;
    const commands = program.commands.map((c) => c.name());
    const doc = userErrorDoc(
      err instanceof CommanderError && err.code === 'commander.help'
        ? new UsageError({ option: 'vcpusim', allowed: `one of ${commands.join(', ')}`, detail: `a command is missing; expected one of ${commands.join(', ')} (vcpusim --help describes them)` })
        : err,
    );
    if (doc) {
      printError(doc, json);
      return EXIT_CODES.usage;
    }
    printError(faultDoc(err), json);
    return EXIT_CODES.failed;
  }
  await closeEarly();
  if (!outcome) return EXIT_CODES.ok;
  pendingCode = exitCodeOf(outcome);
  if (outcome.stdout) process.stdout.write(outcome.stdout);
  return pendingCode;
}
