/** The options of the exit reports (`run --exits`, `report --exits`): --event, --vcpu, --key. */
import type { Command } from 'commander';
import { UsageError } from '../../shared/errors.js';
import { EXIT_EVENTS, EXIT_KEYS, type ExitEvent, type ExitKey, type ExitView } from '../reports/exits.js';
import { choiceOption } from './options.js';

const vcpuNumber = (raw: string): number => {
  if (!/^\d+$/.test(raw) || Number(raw) > 4095) throw new UsageError({ option: '--vcpu', value: /^\d+$/.test(raw) ? Number(raw) : raw, allowed: 'a vCPU number from 0 to --vcpus - 1' });
  return Number(raw);
};

export function addExitOptions(cmd: Command): Command {
  return cmd
    .addOption(choiceOption('--event <event>', 'with --exits: vmexit (per exit reason), ioport (per port and direction) or kvm_stat (KVM debugfs counters)', EXIT_EVENTS))
    .option('--vcpu <n>', 'with --exits: one vCPU only (default all)', vcpuNumber)
    .addOption(choiceOption('--key <key>', 'with --exits: sort by sample (count) or time (mean time), as perf kvm stat --key', EXIT_KEYS));
}

/** The view the options ask for; an exit option without --exits, or a vCPU the VM lacks (`vcpus` when known), is a usage error. */
export function exitViewFromOptions(opts: Record<string, unknown>, vcpus?: number): ExitView {
  for (const [name, flag] of [['event', '--event'], ['vcpu', '--vcpu'], ['key', '--key']] as const) {
    if (opts[name] !== undefined && !opts.exits) throw new UsageError({ option: flag, value: opts[name], allowed: 'it applies with --exits', detail: `${opts[name] as string | number} has no effect without --exits` });
  }
  const vcpu = (opts.vcpu as number | undefined) ?? null;
  if (vcpu !== null && vcpus !== undefined && vcpu >= vcpus) throw new UsageError({ option: '--vcpu', value: vcpu, allowed: `a vCPU number from 0 to ${vcpus - 1} (--vcpus ${vcpus})` });
  if (opts.event === 'kvm_stat' && opts.key !== undefined) throw new UsageError({ option: '--key', value: opts.key, allowed: 'it applies with --event vmexit or ioport', detail: `${opts.key as string} does not sort the kvm_stat counters; it applies with --event vmexit or ioport` });
  return { event: (opts.event as ExitEvent | undefined) ?? 'vmexit', vcpu, key: (opts.key as ExitKey | undefined) ?? 'sample' };
}
