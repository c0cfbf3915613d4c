/**
 * The `vcpusim` command line. Exit codes: 0 ok, 1 the run failed, 2 usage or config error.
 * Output: a readable summary, or with --json exactly one JSON document on stdout.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError, DEFAULTS, FIELD_INFO, MODES, WORKLOADS, resolveConfig, type SimConfig } from '../shared/config.js';
import { PROFILES } from '../shared/costs.js';
import { simulate } from '../worker/vm.js';
import { formatSummary } from './summary.js';

/** Parse an option value as an integer, or fail naming the option and what it allows. */
function intOption(flag: string, field: keyof SimConfig) {
  return (raw: string): number => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isInteger(n)) {
      throw new InvalidArgumentError(`${JSON.stringify(raw)} is not allowed; expected ${FIELD_INFO[field].allowed}`);
    }
    return n;
  };
}

/** Map a config field to the option a user typed. */
const FLAG_OF: Partial<Record<keyof SimConfig, string>> = {
  cacheSize: '--cache-size',
  mmuPages: '--mmu-pages',
  memoryMiB: '--memory',
};
export const flagOf = (field: string): string => FLAG_OF[field as keyof SimConfig] ?? `--${field}`;

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('vcpusim')
    .description('Simulate vCPUs of a 2007 KVM/QEMU/native guest: VMX exits, shadow MMU, cr3 cache, i8259A.')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) });

  program
    .command('run')
    .description('simulate one configuration and print its statistics')
    .addOption(new Option('--mode <mode>', 'hypervisor configuration').choices(MODES).default(DEFAULTS.mode))
    .addOption(new Option('--workload <name>', 'guest workload').choices(WORKLOADS).default(DEFAULTS.workload))
    .option('--tasks <n>', 'ctxswitch: tasks in the ring', intOption('--tasks', 'tasks'))
    .option('--groups <n>', 'hackbench: groups of 20 senders + 20 receivers', intOption('--groups', 'groups'))
    .option('--loops <n>', 'ctxswitch: passes per task; pipe: round trips; hackbench: loops (default 10000, 10000, 100)', intOption('--loops', 'loops'))
    .option('--thread', 'hackbench: threads instead of processes')
    .option('--pipe', 'hackbench: pipes instead of unix sockets')
    .option('--cache-size <n>', 'kvm-paravirt: cr3 cache entries', intOption('--cache-size', 'cacheSize'))
    .option('--mmu-pages <n>', 'shadow page pool (KVM_NUM_MMU_PAGES)', intOption('--mmu-pages', 'mmuPages'))
    .option('--hz <n>', 'guest timer frequency', intOption('--hz', 'hz'))
    .option('--vcpus <n>', 'vCPUs of the VM', intOption('--vcpus', 'vcpus'))
    .option('--memory <MiB>', 'guest memory in MiB', intOption('--memory', 'memoryMiB'))
    .option('--seed <n>', 'random seed', intOption('--seed', 'seed'))
    .addOption(new Option('--profile <name>', 'cost profile').choices(Object.keys(PROFILES)).default(DEFAULTS.profile))
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Examples:
  vcpusim run --mode kvm-trunk --workload ctxswitch --tasks 2
  vcpusim run --mode kvm-paravirt --workload hackbench --groups 5 --cache-size 16 --json`,
    )
    .action((opts: Record<string, unknown>) => {
      const cfg = resolveConfig({
        mode: opts.mode as SimConfig['mode'],
        workload: opts.workload as SimConfig['workload'],
        tasks: opts.tasks as number | undefined,
        groups: opts.groups as number | undefined,
        loops: opts.loops as number | undefined,
        thread: opts.thread === true,
        pipe: opts.pipe === true,
        cacheSize: opts.cacheSize as number | undefined,
        mmuPages: opts.mmuPages as number | undefined,
        hz: opts.hz as SimConfig['hz'] | undefined,
        vcpus: opts.vcpus as number | undefined,
        memoryMiB: opts.memory as number | undefined,
        seed: opts.seed as number | undefined,
        profile: opts.profile as string,
      });
      const started = process.hrtime.bigint();
      const result = simulate(cfg);
      const hostSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (opts.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else process.stdout.write(formatSummary(result, hostSeconds));
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`error: ${flagOf(err.field)}: ${err.message.slice(err.field.length + 2)}\n`);
      return 2;
    }
    process.stderr.write(`error: the run failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv);
