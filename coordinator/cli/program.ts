/**
 * The `vcpusim` program (commander): each command's arguments, options, help and
 * examples, and the action that hands the parsed options to its module in commands/ —
 * a function from options to an Outcome (outcome.ts), loaded when its command runs (a
 * `run` loads none of the others'). What a command needs beyond --help (the simulator,
 * the pool, the plots, the queue) loads inside it.
 */
import { Command, Option } from 'commander';
import { MODEL_VERSION } from '../../worker/model.js';
import { MAX_RETRIES, MAX_WORKERS, PLACEMENTS, defaultWorkers, type PlacementKind } from '../execution/limits.js';
import { defaultExperimentsDir } from '../experiments/load.js';
import { MAX_POINTS } from '../experiments/schema.js';
import { DEFAULT_LOCK_MS } from '../queue/lock.js';
import { DEFAULT_QUEUE_NAME, parseQueueName, parseQueueUrl, queueOf } from '../queue/url.js';
import { FORMATS, type Format } from '../reports/format.js';
import { MAX_SEEDS } from '../reports/replicates.js';
import { DEFAULT_RESULTS_DIR } from '../store/store.js';
import { addConfigOptions, configFromOptions } from './config-options.js';
import { addExitOptions, exitViewFromOptions } from './exit-options.js';
import { choiceOption, cpuListOption, intInRange, pathOption, regexOption, whereOption } from './options.js';
import type { ExperimentRunOptions } from './experiment-run.js';
import type { Outcome } from './outcome.js';
import { HELP } from './help.js';
import { packageVersion } from './version.js';

type Opts = Record<string, unknown>;

const queueNameOption = (cmd: Command): Command => cmd.option('--queue-name <name>', `name of the queue on the server (default ${DEFAULT_QUEUE_NAME})`, parseQueueName);

/** The options of the commands that run experiments (sweep, reproduce). */
function addRunnerOptions(cmd: Command): Command {
  return queueNameOption(cmd.option('--queue <url>', 'run the configs as jobs on this Redis queue (redis://host:port), taken by `vcpusim worker` processes', (raw: string) => parseQueueUrl(raw)))
    .option('--results <dir>', 'result store directory', pathOption('--results'), DEFAULT_RESULTS_DIR)
    .option('--fresh', 'ignore stored results: run every config again and overwrite its record')
    .option('--dry-run', 'print the plan (every config, how many are stored, an estimate of the time) and run nothing')
    .option('--workers <n>', `worker threads (default: one per core; at most ${MAX_WORKERS})`, intInRange('--workers', 1, MAX_WORKERS))
    .option('--retries <n>', `retries of a run whose worker threw or died (default 2, at most ${MAX_RETRIES})`, intInRange('--retries', 0, MAX_RETRIES))
    .addOption(choiceOption('--format <format>', 'report format', FORMATS).default('table'))
    .option('--json', 'print one JSON document on stdout (same as --format json, plus run counts)')
    .option('--plot <dir>', "write the experiment's SVG plots into <dir>", pathOption('--plot'));
}

/** The parsed options of sweep and reproduce, the queue checked to answer. */
async function experimentRunOptions(opts: Opts): Promise<ExperimentRunOptions> {
  const queue = await queueOf(opts.queue as string | undefined, opts.queueName as string | undefined, opts.workers as number | undefined);
  return {
    results: String(opts.results),
    fresh: opts.fresh === true,
    workers: opts.workers as number | undefined,
    retries: opts.retries as number | undefined,
    json: opts.json === true,
    format: opts.format as Format,
    plot: opts.plot as string | undefined,
    dryRun: opts.dryRun === true,
    ...(queue ? { queue } : {}),
  };
}

const seedsOption = (what: string) => [`--seeds <n>`, `${what} (at most ${MAX_SEEDS})`, intInRange('--seeds', 1, MAX_SEEDS)] as const;
const experimentsOption = (cmd: Command): Command =>
  cmd.addOption(new Option('--experiments <dir>', 'directory of experiment files').default(defaultExperimentsDir(), "the package's experiments/"));
const resultsOption = (cmd: Command, help = 'result store directory'): Command => cmd.option('--results <dir>', help, pathOption('--results'), DEFAULT_RESULTS_DIR);

/** The program. `done` receives the outcome of the command that ran (main.ts writes its output and exits with its code). */
export function buildProgram(done: (o: Outcome) => void = () => {}): Command {
  const program = new Command();
  const act =
    <A extends unknown[]>(f: (...args: A) => Promise<Outcome>) =>
    async (...args: A): Promise<void> => {
      done(await f(...args));
    };
  program
    .name('vcpusim')
    .description('Simulate vCPUs of a guest under 2007 KVM, QEMU and native modes: VMX exits, shadow MMU, cr3 cache, i8259A.')
    .version(`vcpusim ${packageVersion()} (${MODEL_VERSION})`, '-V, --version', 'print the version and the model version')
    .exitOverride()
    // Errors are printed by main(), one line (and a JSON document with --json); so is a missing command, without the help.
    .configureOutput({ outputError: () => {}, writeErr: () => {} })
    .addHelpText('after', HELP.program);

  addExitOptions(addConfigOptions(program.command('run').description('simulate one configuration and print its statistics'), false))
    .option('--exits', 'also print an exit report in the style of perf kvm stat report (--event, --vcpu, --key)')
    .option('--json', 'print one JSON document')
    .option('--workers <n>', `worker threads to spread a multi-vCPU VM over (default 1; at most --vcpus and ${MAX_WORKERS}, each holding a replica of the VM; the statistics are the same for any number)`, intInRange('--workers', 1, MAX_WORKERS))
    .addOption(choiceOption('--placement <how>', 'with --workers: how vCPUs are dealt to threads', PLACEMENTS).default('blocks'))
    .option(...seedsOption('run seeds 1..n and print the mean of the metric with its 95% interval'))
    .option('--live', 'show the kvm_stat counters on stderr while the run goes, about once a second (Ctrl-C cancels it at a quantum boundary)')
    .addHelpText('after', HELP.run)
    .action(
      act(async (opts: Opts, cmd: Command) =>
        (await import('../commands/run.js')).runCommand({
          given: configFromOptions(opts, false, (attr) => cmd.getOptionValueSource(attr) === 'cli'),
          exits: opts.exits === true,
          exitView: (vcpus) => exitViewFromOptions(opts, vcpus),
          json: opts.json === true,
          workers: opts.workers as number | undefined,
          placement: opts.placement as PlacementKind,
          placementGiven: cmd.getOptionValueSource('placement') === 'cli',
          seeds: opts.seeds as number | undefined,
          live: opts.live === true,
        }),
      ),
    );

  addRunnerOptions(addConfigOptions(program.command('sweep').description('run the cartesian product of comma lists of run parameters into the result store, then report it'), true))
    .option('--name <name>', 'name of the sweep in the store (results/<name>/)', 'sweep')
    .option(...seedsOption('run every point with seeds 1..n; reports show the mean and its 95% interval'))
    .addHelpText('after', HELP.sweep(MAX_POINTS))
    .action(
      act(async (opts: Opts, cmd: Command) =>
        (await import('../commands/sweep.js')).sweepCommand({
          ...(await experimentRunOptions(opts)),
          name: String(opts.name),
          fields: configFromOptions(opts, true, (attr) => cmd.getOptionValueSource(attr) === 'cli'),
          seeds: opts.seeds as number | undefined,
          argv: process.argv.slice(3),
        }),
      ),
    );

  experimentsOption(addRunnerOptions(program.command('reproduce').argument('[experiment]', 'experiment name (in experiments/) or path to a .yaml/.json file', 'published-table').description('run an experiment file into the result store (skipping stored runs) and report it')))
    .option('--trace <file>', "the trace an experiment of the trace workload replays (instead of its file's)", pathOption('--trace'))
    .option(...seedsOption("run every point with seeds 1..n (instead of the file's seeds)"))
    .addHelpText('after', HELP.reproduce)
    .action(
      act(async (name: string, opts: Opts) =>
        (await import('../commands/reproduce.js')).reproduceCommand(name, { ...(await experimentRunOptions(opts)), experiments: String(opts.experiments), trace: opts.trace as string | undefined, seeds: opts.seeds as number | undefined }),
      ),
    );

  queueNameOption(
    program
      .command('worker')
      .description('take jobs from a queue that `sweep --queue` or `reproduce --queue` fills, and run them on this machine')
      .requiredOption('--queue <url>', 'the Redis queue (redis://host:port)', (raw: string) => parseQueueUrl(raw))
      .option('--workers <n>', `worker threads, one job each (default: one per core; at most ${MAX_WORKERS})`, intInRange('--workers', 1, MAX_WORKERS))
      .option('--lock-ms <ms>', `job lock: renewed every half of it while a job runs; a worker silent this long is taken for dead (default ${DEFAULT_LOCK_MS})`, intInRange('--lock-ms', 500, 3_600_000)),
  )
    .addHelpText('after', HELP.worker)
    .action(
      act(async (opts: Opts) =>
        (await import('../commands/worker.js')).workerCommand({
          queue: String(opts.queue),
          queueName: (opts.queueName as string | undefined) ?? DEFAULT_QUEUE_NAME,
          workers: Math.min((opts.workers as number | undefined) ?? defaultWorkers(), MAX_WORKERS),
          lockMs: opts.lockMs as number | undefined,
        }),
      ),
    );

  const queue = program.command('queue').description('the state of a queue: status, drain');
  for (const [action, description] of [
    ['status', 'job counts of the queue and the workers connected'],
    ['drain', 'remove the jobs that wait (running jobs finish; finished ones stay to be collected)'],
  ] as const) {
    queueNameOption(queue.command(action).argument('<url>', 'the Redis queue (redis://host:port)').description(description).option('--json', 'print one JSON document')).action(
      act(async (url: string, opts: Opts) => (await import('../commands/queue.js')).queueCommand(action, url, { queueName: (opts.queueName as string | undefined) ?? DEFAULT_QUEUE_NAME, json: opts.json === true })),
    );
  }

  experimentsOption(resultsOption(addExitOptions(program.command('report')).argument('[experiment]', 'experiment or sweep name', 'published-table').description('render stored results of an experiment or sweep: table, json, csv, md, SVG plots, exit reports')))
    .addOption(choiceOption('--format <format>', 'report format', FORMATS).default('table'))
    .option('--json', 'print one JSON document on stdout (same as --format json)')
    .option('--plot <dir>', "write the experiment's SVG plots into <dir>", pathOption('--plot'))
    .option('--html <dir>', 'also write <dir>/index.html: the table, plots, exit reports and configs in one self-contained page', pathOption('--html'))
    .option('--exits', 'print an exit report (perf kvm stat style) for each stored run (--event, --vcpu, --key; table, csv or json)')
    .option('--where <field=value>', 'only runs whose config has field=value (repeatable)', whereOption)
    .option(...seedsOption('report seeds 1..n of every point (as reproduce --seeds)'))
    .option('--tidy', 'with --format csv: long form, one row per run x statistic (every counter, exits by reason, per vCPU) with the full config')
    .addHelpText('after', HELP.report)
    .action(
      act(async (name: string, opts: Opts) =>
        (await import('../commands/report.js')).reportCommand(name, {
          results: String(opts.results),
          experiments: String(opts.experiments),
          format: opts.json ? 'json' : (opts.format as Format),
          plot: opts.plot as string | undefined,
          html: opts.html as string | undefined,
          exits: opts.exits === true,
          exitView: () => exitViewFromOptions(opts),
          where: (opts.where as Record<string, never>) ?? {},
          seeds: opts.seeds as number | undefined,
          tidy: opts.tidy === true,
        }),
      ),
    );

  experimentsOption(resultsOption(program.command('compare').argument('<a>', 'experiment or sweep name, experiment file, or store directory (a path with a "/")').argument('<b>', 'the same, for the other side').description('stored runs of two experiments, sweeps or stores side by side: difference and ratio per figure, intervals over seeds'), 'result store directory (for names and experiment files)'))
    .addOption(choiceOption('--format <format>', 'output format', FORMATS).default('table'))
    .option('--json', 'print one JSON document on stdout (same as --format json)')
    .addHelpText('after', HELP.compare)
    .action(act(async (a: string, b: string, opts: Opts) => (await import('../commands/compare.js')).compareCommand(a, b, { results: String(opts.results), experiments: String(opts.experiments), format: opts.json ? 'json' : (opts.format as Format) })));

  program
    .command('trace')
    .description('recorded Linux scheduler traces: the cr3 cache a workload needs')
    .command('analyze')
    .argument('<file>', 'an ftrace trace / trace_pipe text, trace-cmd report or perf sched script output (gzip accepted)')
    .description('cr3 loads of a recorded trace and the hit rate of a per-CPU cr3 cache of every size 1-64 under LRU, round-robin fill and the optimum')
    .option('--json', 'print one JSON document')
    .option('--plot <dir>', 'write the hit rate against cache size as SVG into <dir>', pathOption('--plot'))
    .option('--kthreads <regex>', 'also treat tasks whose comm matches this pattern as kernel threads (lazy TLB, no cr3 load)', regexOption('--kthreads'))
    .option('--cpus <list>', 'only these CPUs (comma list)', cpuListOption)
    .addHelpText('after', HELP.trace)
    .action(act(async (file: string, opts: Opts) => (await import('../commands/trace.js')).traceAnalyzeCommand(file, { json: opts.json === true, plot: opts.plot as string | undefined, kthreads: opts.kthreads as RegExp | undefined, cpus: opts.cpus as number[] | undefined })));

  experimentsOption(program.command('list').description('list experiments, modes, workloads, cost profiles and config fields'))
    .option('--json', 'print one JSON document')
    .addHelpText('after', HELP.list)
    .action(act(async (opts: Opts) => (await import('../commands/list.js')).listCommand({ experiments: String(opts.experiments), json: opts.json === true })));

  program
    .command('calibrate')
    .argument('[spec]', 'calibration spec: a name in experiments/calibration/ or a path', 'core2-2007')
    .description('fit the free costs a calibration spec declares to its published figures; write the fitted profile')
    .option('--max-evals <n>', "objective evaluations (default: the spec's maxEvaluations)", intInRange('--max-evals', 1, Number.MAX_SAFE_INTEGER))
    .option('--out <file>', 'where to write the fitted profile (default: profiles/<name>.json)')
    .option('--start <profile>', "start from this profile's values of the free costs (default: the spec's base)")
    .option('--workers <n>', `worker threads for the runs of an evaluation (default: one per core; 1 runs in this thread; at most ${MAX_WORKERS})`, intInRange('--workers', 1, MAX_WORKERS))
    .option('--dry-run', 'fit and report, write nothing')
    .option('--json', 'print one JSON document')
    .addHelpText('after', HELP.calibrate)
    .action(
      act(async (spec: string, opts: Opts) =>
        (await import('../commands/calibrate.js')).calibrateCommand(spec, {
          maxEvals: opts.maxEvals as number | undefined,
          out: opts.out as string | undefined,
          start: opts.start as string | undefined,
          workers: opts.workers as number | undefined,
          dryRun: opts.dryRun === true,
          json: opts.json === true,
        }),
      ),
    );

  return program;
}
