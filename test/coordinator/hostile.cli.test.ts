/**
 * Hostile but fair input to the built CLI, one table: the command line (and the files it
 * needs) against the exit code and the words its one line on stderr must contain. Every
 * case must also: print nothing else on stderr (no stack trace, no warning), nothing on
 * stdout (or, with --json, exactly one JSON error document holding the same line), finish
 * within seconds, and leave its directory, store included, as it was.
 *
 * Each case runs in a directory of its own (with a store holding a sentinel record). The
 * whole table runs in one process of the CLI (test/support/cli-batch.js); a part of it
 * also runs as processes of bin/vcpusim.js, with --json.
 */
import { execFile, execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, it, type ExpectStatic } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/vcpusim.js', import.meta.url));
const BATCH = fileURLToPath(new URL('../support/cli-batch.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'vcpusim-hostile-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const mkfifo = (p: string) => execFileSync('mkfifo', [p]);
const head = 'name: x\ndescription: d\n';
const deep = (n: number, open: string, close: string) => open.repeat(n) + close.repeat(n);

// Files several cases read (never written by the CLI).
const fx = join(work, 'fx');
mkdirSync(fx);
const fixtures: Record<string, string> = {
  'deep.json': `{"name":"x","description":"d","runs":[${deep(200000, '[', ']')}]}`,
  'deep-flow.yaml': `${head}runs: ${deep(200000, '[', ']')}\n`,
  'deep-dash.yaml': `${head}runs:\n  ${'- '.repeat(200000)}x\n`,
  'deep-map.yaml': `${head}base: ${deep(1000, '{a: ', '}')}\n`,
  'tag.yaml': 'name: !!js/function x\ndescription: d\nruns: [{}]\n',
  'local-tag.yaml': `${head}runs: [!foo {}]\n`,
  'binary.yaml': 'name: x\ndescription: !!binary aGVsbG8=\nruns: [{}]\n',
  'grid-1e9.yaml': `name: huge\ndescription: d\ngrid:\n${['seed', 'tasks', 'loops', 'cacheSize', 'groups', 'quantum', 'vcpus', 'io', 'hz'].map((f) => `  ${f}: [${Array.from({ length: 10 }, (_, i) => i + 1).join(', ')}]`).join('\n')}\n`,
  'grid-1e6.json': JSON.stringify({ name: 'big', description: 'd', grid: { seed: Array.from({ length: 1000 }, (_, i) => i), loops: Array.from({ length: 1000 }, (_, i) => i + 1) } }),
  'runs-100001.json': JSON.stringify({ name: 'many', description: 'd', runs: Array.from({ length: 100001 }, () => ({})) }),
  'proto-base.json': '{"name":"x","description":"d","base":{"__proto__":{"tasks":3}},"runs":[{}]}',
  'proto-grid.json': '{"name":"x","description":"d","grid":{"__proto__":[1,2]}}',
  'proto.yaml': `${head}runs:\n  - __proto__: { tasks: 3 }\n`,
  'constructor-grid.yaml': `${head}grid:\n  constructor: [1, 2]\n`,
  'tostring-run.yaml': `${head}runs: [{ toString: 1 }]\n`,
  'name-dotdot.yaml': 'name: ..\ndescription: d\nruns: [{}]\n',
  'name-dot.yaml': 'name: .\ndescription: d\nruns: [{}]\n',
  'name-slash.json': JSON.stringify({ name: '../../etc', description: 'd', runs: [{}] }),
  'name-long.yaml': `name: ${'n'.repeat(65)}\ndescription: d\nruns: [{}]\n`,
  'plot-dotdot.yaml': `${head}runs: [{}]\nplots: [{ x: tasks, y: metric, file: .. }]\n`,
  'ignored-grid.yaml': `name: ign\ndescription: d\nbase: { workload: pipe }\ngrid:\n  thread: [true, false]\n`,
  'ignored-base.yaml': `name: ign\ndescription: d\nbase: { mode: kvm-trunk, cacheSize: 16 }\nruns: [{}, { tasks: 4 }]\n`,
  'profile-constructor.yaml': `${head}base: { profile: constructor }\nruns: [{}]\n`,
  'alias-bomb.yaml': `a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n${head}runs: [{}]\n`,
  'duplicate-key.yaml': `${head}name: y\nruns: [{}]\n`,
  'two-documents.yaml': `${head}runs: [{}]\n---\n${head}`,
  'empty.yaml': '',
  'array.json': '[1, 2, 3]',
  'string.yaml': 'just a string\n',
  'big.yaml': `${head}description2: "${'x'.repeat(5 * 1024 * 1024)}"\n`,
  'vcpus-idle.yaml': `${head}base: { workload: idle }\ngrid: { vcpus: [1, 2] }\n`,
  'bad-where.yaml': `${head}runs: [{}]\n`,
  'trace-bad-line.txt': '# tracer: nop\n          a-10 [000] d..2 1.0: sched_switch: prev_comm=a prev_pid=10 prev_prio=120 prev_state=S ==> next_comm=b next_pid=11 next_prio=120\nhello world\n',
  'trace-no-switch.txt': '# tracer: nop\n          a-10 [000] d..2 1.0: sched_wakeup: comm=b pid=11 prio=120 target_cpu=000\n',
  'trace-ok.txt': '          a-10 [000] d..2 1.0: sched_switch: prev_comm=a prev_pid=10 prev_prio=120 prev_state=S ==> next_comm=b next_pid=11 next_prio=120\n',
};
const sw1 = (cpu: string, prev: string, next: string, t = '1.0') => `          a-${prev} [${cpu}] d..2 ${t}: sched_switch: prev_comm=a prev_pid=${prev} prev_prio=120 prev_state=S ==> next_comm=b next_pid=${next} next_prio=120`;
// Traces, experiment files and specs of the second battery (kinds: traces, experiment files, stores, reports, calibration).
Object.assign(fixtures, {
  'trace-cpu-huge.txt': sw1('99999999', '10', '11') + '\n',
  'trace-header-cpus.txt': 'version = 6\ncpus=1000000000\n' + sw1('000', '10', '11') + '\n',
  'trace-hash-p.txt': '# entries-in-buffer/entries-written: 1/1   #P:1000000\n' + sw1('000', '10', '11') + '\n',
  'trace-pid-huge.txt': sw1('000', '10', '99999999999') + '\n',
  'trace-fork-pid-huge.txt': sw1('000', '10', '11') + '\n          a-10 [000] d..2 1.1: sched_process_fork: comm=a pid=10 child_comm=a child_pid=5000000\n',
  'trace-migrate-cpu.txt': sw1('000', '10', '11') + '\n          a-10 [000] d..2 1.1: sched_migrate_task: comm=a pid=10 prio=120 orig_cpu=0 dest_cpu=70000\n',
  'trace-binary.txt': '\u0000\u0001\u0002ELF\u0000\u0000\u00ff\n',
  'trace-empty.txt': '',
  'trace-only-comments.txt': '# tracer: nop\n#\n',
  'trace-long-line.txt': 'x'.repeat(3 * 1024 * 1024) + '\n',
  'trace-bad-switch.txt': '          a-10 [000] d..2 1.0: sched_switch: prev_comm=a prev_pid=10\n',
  'trace-bad-fork.txt': sw1('000', '10', '11') + '\n          a-10 [000] d..2 1.1: sched_process_fork: comm=a pid=x child_comm=a child_pid=1\n',
  'exp-inf.yaml': `${head}base: { timeScale: .inf, workload: trace }\nruns: [{}]\n`,
  'exp-nan.yaml': `${head}runs: [{ tasks: .nan }]\n`,
  'exp-1e400.json': '{"name":"x","description":"d","runs":[{"loops":1e400}]}',
  'exp-neg-zero.yaml': `${head}runs: [{ tasks: -0 }]\n`,
  'exp-float-tasks.yaml': `${head}runs: [{ tasks: 2.5 }]\n`,
  'exp-merge.yaml': `${head}defaults: &d { tasks: 4 }\nruns: [{ <<: *d, loops: 10 }]\n`,
  'exp-bell.yaml': `name: "x\u0007y"\ndescription: d\nruns: [{}]\n`,
  'exp-newline-name.json': JSON.stringify({ name: 'a\nb', description: 'd', runs: [{}] }),
  'exp-nul-name.json': JSON.stringify({ name: 'a\u0000b', description: 'd', runs: [{}] }),
  'exp-plot-slash.yaml': `${head}runs: [{}]\nplots: [{ x: tasks, y: metric, file: "a/b" }]\n`,
  'exp-plot-nul.json': JSON.stringify({ name: 'x', description: 'd', runs: [{}], plots: [{ x: 'tasks', y: 'metric', file: 'a\u0000b' }] }),
  'exp-plot-dash.yaml': `${head}runs: [{}]\nplots: [{ x: tasks, y: metric, file: "-rf" }]\n`,
  'exp-plot-unknown-y.yaml': `${head}runs: [{}]\nplots: [{ x: tasks, y: rmrf }]\n`,
  'exp-empty-grid.yaml': `${head}grid: { tasks: [] }\n`,
  'exp-grid-string.yaml': `${head}grid: { tasks: "1,2" }\n`,
  'exp-seeds-0.yaml': `${head}seeds: 0\nruns: [{}]\n`,
  'exp-seeds-huge.yaml': `${head}seeds: 1000000\nruns: [{}]\n`,
  'exp-bom.yaml': `\ufeff${head}runs: [{ mode: kvm }]\n`,
  'exp-crlf.yaml': `name: x\r\ndescription: d\r\nruns: [{ tasks: 0 }]\r\n`,
  'spec-unknown-cost.yaml': 'name: s\ndescription: d\nbase: core2-2007\nmaxEvaluations: 5\ntargets: published-table\nfree:\n  - { cost: warpDrive, min: 1, max: 2, reason: r }\n',
  'spec-min-max.yaml': 'name: s\ndescription: d\nbase: core2-2007\nmaxEvaluations: 5\ntargets: published-table\nfree:\n  - { cost: schedule, min: 5000, max: 400, reason: r }\n',
  'spec-no-targets.yaml': 'name: s\ndescription: d\nbase: core2-2007\nmaxEvaluations: 5\ntargets: idle-guest\nfree:\n  - { cost: schedule, min: 400, max: 4000, reason: r }\n',
  'spec-base-unknown.yaml': 'name: s\ndescription: d\nbase: pentium-1993\nmaxEvaluations: 5\ntargets: published-table\nfree:\n  - { cost: schedule, min: 400, max: 4000, reason: r }\n',
  'spec-start-out.yaml': 'name: s\ndescription: d\nbase: core2-2007\nmaxEvaluations: 5\ntargets: published-table\nstart: { schedule: 100000 }\nfree:\n  - { cost: schedule, min: 400, max: 4000, reason: r }\n',
  'spec-tolerance-neg.yaml': 'name: s\ndescription: d\nbase: core2-2007\nmaxEvaluations: 5\ntargets: published-table\ntolerance: -1\nfree:\n  - { cost: schedule, min: 400, max: 4000, reason: r }\n',
});
for (const [name, text] of Object.entries(fixtures)) writeFileSync(join(fx, name), text);
// A gzip cut short, a gzip of 600 MiB of newlines (a bomb: 600 KiB packed), and links to devices and in a loop.
writeFileSync(join(fx, 'trace-truncated.txt.gz'), gzipSync(Buffer.from(sw1('000', '10', '11').repeat(200))).subarray(0, 120));
// (600 gzip members of 1 MiB each: a file of 600 KiB, made without holding 600 MiB.)
const mib = gzipSync(Buffer.alloc(1024 * 1024, 10));
writeFileSync(join(fx, 'trace-bomb.txt.gz'), Buffer.concat(Array.from({ length: 600 }, () => mib)));
symlinkSync('/dev/urandom', join(fx, 'trace-urandom.txt'));
symlinkSync('loop-b.txt', join(fx, 'loop-a.txt'));
symlinkSync('loop-a.txt', join(fx, 'loop-b.txt'));
writeFileSync(join(fx, 'trace-bad-gzip.txt.gz'), Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x6e, 0x6f, 0x74]));
mkfifo(join(fx, 'fifo.yaml'));
symlinkSync('/dev/zero', join(fx, 'zero.yaml'));
mkdirSync(join(fx, 'dir.yaml'));
writeFileSync(join(fx, 'plain-file'), 'not a directory\n');
const f = (name: string) => join(fx, name);

/** A manifest a sweep would leave in results/<name>/experiment.json. */
const manifest = (o: object = {}) => JSON.stringify({ name: 'sw', description: 'd', base: { loops: 10 }, grid: { seed: [1, 2] }, ...o });

interface Case {
  what: string;
  args: string[];
  /** Set up the case's directory (its cwd) before the run. */
  setup?: (dir: string) => void;
  code?: number;
  /** Words the line on stderr must contain. */
  words: string[];
}

const CASES: Case[] = [
  // --- --param and field names that are object properties
  { what: '--param constructor', args: ['run', '--param', 'constructor=1'], words: ['--param', '"constructor" is not a parameter', 'mode, workload'] },
  { what: '--param toString', args: ['run', '--param', 'toString=1'], words: ['--param', '"toString" is not a parameter'] },
  { what: '--param __proto__ (an error, not dropped)', args: ['run', '--param', '__proto__=1'], words: ['--param', '"__proto__" is not a parameter'] },
  { what: '--param hasOwnProperty in a sweep', args: ['sweep', '--param', 'hasOwnProperty=1,2'], words: ['--param', '"hasOwnProperty"'] },
  { what: '--param without a field', args: ['run', '--param', '=5'], words: ['--param', '"=5"', 'field=value'] },
  { what: '--param without a value', args: ['run', '--param', 'tasks'], words: ['--param', '"tasks"', 'field=value'] },
  { what: '--param with a list in run', args: ['run', '--param', 'tasks=2,4'], words: ['--param tasks', '"2,4"', 'one value'] },
  { what: '--param twice for one field', args: ['run', '--param', 'tasks=2', '--param', 'tasks=4'], words: ['--param', 'tasks is given twice'] },
  { what: '--param and its option', args: ['run', '--tasks', '2', '--param', 'tasks=4'], words: ['--param tasks', 'also given as --tasks'] },
  { what: '--param profile=constructor', args: ['run', '--param', 'profile=constructor'], words: ['--profile', '"constructor"', 'core2-2007'] },
  { what: '--profile toString', args: ['run', '--profile', 'toString'], words: ['--profile', '"toString"', 'core2-2007'] },
  { what: '--param mode=__proto__', args: ['run', '--param', 'mode=__proto__'], words: ['--mode', '"__proto__"', 'kvm-paravirt'] },
  // --- parameters the workload or mode ignores, in run
  { what: '--prev-roots 65', args: ['run', '--mode', 'kvm-shadow', '--prev-roots', '65'], words: ['--prev-roots', '65', 'from 0 to 64'] },
  { what: 'kvm-ept on the Core 2 profile', args: ['run', '--mode', 'kvm-ept'], words: ['--mode', 'kvm-ept', 'no EPT/NPT', 'skylake-sp-2017, zen2-2019'] },
  { what: '--pcid on Zen 2', args: ['run', '--mode', 'kvm-shadow', '--profile', 'zen2-2019', '--pcid'], words: ['--pcid', 'whose CPU has no PCID'] },
  { what: '--arch x86-64 in qemu', args: ['run', '--mode', 'qemu', '--arch', 'x86-64'], words: ['--arch', 'x86-64', 'i386 in qemu'] },
  { what: '--kpti with an i386 guest', args: ['run', '--mode', 'native', '--kpti'], words: ['--kpti', 'no effect with an i386 guest', 'x86-64'] },
  { what: '--prev-roots in kvm-trunk', args: ['run', '--mode', 'kvm-trunk', '--prev-roots', '7'], words: ['--prev-roots', 'no effect in kvm-trunk', 'kvm-shadow, kvm-shadow-pv'] },
  { what: '--thread with pipe', args: ['run', '--workload', 'pipe', '--thread'], words: ['--thread', 'true has no effect on pipe', 'it applies to hackbench, ctxswitch'] },
  { what: '--tasks with hackbench', args: ['run', '--workload', 'hackbench', '--tasks', '40'], words: ['--tasks', '40 has no effect on hackbench (its tasks come from --groups)', 'it applies to ctxswitch'] },
  { what: '--tasks with pipe', args: ['run', '--workload', 'pipe', '--tasks', '2'], words: ['--tasks', 'on pipe (it always runs two tasks)'] },
  { what: '--io with ctxswitch', args: ['run', '--io', '3'], words: ['--io', '3 has no effect on ctxswitch', 'it applies to iomix'] },
  { what: '--groups with pipe', args: ['run', '--workload', 'pipe', '--groups', '3'], words: ['--groups', 'on pipe', 'hackbench'] },
  { what: '--pipe with idle', args: ['run', '--workload', 'idle', '--pipe'], words: ['--pipe', 'on idle'] },
  { what: '--cache-size in kvm-trunk', args: ['run', '--mode', 'kvm-trunk', '--cache-size', '8'], words: ['--cache-size', '8 has no effect in kvm-trunk', 'it applies in kvm-paravirt'] },
  { what: '--mmu-pages in native', args: ['run', '--mode', 'native', '--mmu-pages', '512'], words: ['--mmu-pages', 'in native', 'kvm-upstream, kvm-trunk, kvm-paravirt'] },
  { what: '--no-exit-flush in qemu', args: ['run', '--mode', 'qemu', '--no-exit-flush'], words: ['--no-exit-flush', 'false has no effect in qemu'] },
  { what: '--pinned-root-fix in kvm-upstream', args: ['run', '--mode', 'kvm-upstream', '--pinned-root-fix', 'hypercall'], words: ['--pinned-root-fix', '"hypercall" has no effect in kvm-upstream'] },
  { what: '--quantum with one vCPU', args: ['run', '--quantum', '50'], words: ['--quantum', '50 has no effect with one vCPU', 'more than one vCPU'] },
  { what: '--sndbuf with --pipe', args: ['run', '--workload', 'hackbench', '--pipe', '--sndbuf', '4096'], words: ['--sndbuf', '4096 has no effect with --pipe', 'unix sockets'] },
  { what: '--param io with hackbench', args: ['run', '--workload', 'hackbench', '--param', 'io=2'], words: ['--io', 'on hackbench'] },
  // --- numbers and choices of run
  { what: 'a hex integer', args: ['run', '--tasks', '0x10'], words: ['--tasks', '"0x10"', 'an integer from 1 to 100000'] },
  { what: 'an exponent', args: ['run', '--loops', '1e3'], words: ['--loops', '"1e3"'] },
  { what: 'a space before a number', args: ['run', '--tasks', ' 2'], words: ['--tasks', '" 2"'] },
  { what: 'a negative seed', args: ['run', '--seed', '-1'], words: ['--seed', '-1', 'from 0 to 4294967295'] },
  { what: 'a seed past 32 bits', args: ['run', '--seed', '4294967296'], words: ['--seed', '4294967296'] },
  { what: 'too much memory', args: ['run', '--memory', '4097'], words: ['--memory', '4097', 'from 16 to 4096'] },
  { what: 'a fractional hz', args: ['run', '--hz', '100.5'], words: ['--hz', '"100.5"'] },
  { what: 'two vCPUs for idle', args: ['run', '--workload', 'idle', '--vcpus', '2'], words: ['--vcpus', '2', 'idle'] },
  { what: 'more threads than vCPUs', args: ['run', '--workers', '2'], words: ['--workers', 'at most 1'] },
  { what: '--workers 0', args: ['run', '--workers', '0'], words: ['--workers', '0', 'from 1 to 64'] },
  { what: '--workers a million', args: ['run', '--workers', '1000000'], words: ['--workers', '1000000', 'from 1 to 64'] },
  { what: '--workers 256 on 256 vCPUs (a replica each: bounded at 64)', args: ['run', '--workload', 'hackbench', '--vcpus', '256', '--workers', '256'], words: ['--workers', '256', 'from 1 to 64'] },
  { what: '--placement with one thread', args: ['run', '--placement', 'round-robin'], words: ['--placement', 'round-robin has no effect on one thread'] },
  { what: 'an unknown placement', args: ['run', '--placement', 'diagonal'], words: ['--placement', '"diagonal"', 'blocks, round-robin'] },
  { what: 'an unknown mode', args: ['run', '--mode', 'kvm'], words: ['--mode', '"kvm"', 'native, qemu, kvm-upstream, kvm-trunk, kvm-paravirt'] },
  { what: 'too little memory for the guest', args: ['run', '--workload', 'hackbench', '--groups', '100', '--memory', '16'], words: ['--memory', '16 MiB is too small', 'try --memory 128'] },
  // 5,000 senders on one vCPU each fill their socket before a receiver runs: more skbs in flight than a vCPU's slab range.
  { what: 'more socket buffers in flight than a vCPU holds', args: ['run', '--mode', 'kvm-trunk', '--workload', 'hackbench', '--groups', '250', '--loops', '10', '--memory', '1024'], words: ['--groups', '250', 'socket buffers', 'more --vcpus'] },
  { what: 'an argument run does not take', args: ['run', 'extra'], words: ['too many arguments'] },
  { what: 'an unknown command', args: ['bogus'], words: ['unknown command', 'bogus'] },
  { what: 'no command', args: [], words: ['a command is missing', 'run, sweep, reproduce, worker, queue, report, compare, trace, list, calibrate'] },
  { what: 'an option without its value', args: ['sweep', '--name'], words: ['--name', 'argument missing'] },
  // --- sweep: names, limits, lists, paths
  { what: '--name ..', args: ['sweep', '--name', '..', '--loops', '10'], words: ['--name', '".."', 'not starting with "."'] },
  { what: '--name .', args: ['sweep', '--name', '.', '--loops', '10'], words: ['--name', '"."'] },
  { what: '--name hidden', args: ['sweep', '--name', '.x', '--loops', '10'], words: ['--name', '".x"'] },
  { what: '--name a path', args: ['sweep', '--name', 'a/../../b', '--loops', '10'], words: ['--name', '"a/../../b"'] },
  { what: '--name empty', args: ['sweep', '--name', '', '--loops', '10'], words: ['--name', '""'] },
  { what: '--name too long', args: ['sweep', '--name', 'n'.repeat(65), '--loops', '10'], words: ['--name', 'at most 64 characters'] },
  { what: 'a grid of a million points', args: ['sweep', '--loops', Array.from({ length: 1000 }, (_, i) => i + 1).join(','), '--seed', Array.from({ length: 1000 }, (_, i) => i).join(',')], words: ['--loops x --seed', '1000000 points', 'at most 100000'] },
  { what: 'a grid of 10^9 points', args: ['sweep', '--tasks', '1,2,3,4,5,6,7,8,9,10', '--loops', '1,2,3,4,5,6,7,8,9,10', '--seed', Array.from({ length: 1000 }, (_, i) => i).join(','), '--hz', '100,250,300,1000', '--cache-size', '1,2,3,4,5,6,7,8,9,10', '--memory', '16,32,64,128,256,512,896'], words: ['points', 'at most 100000'] },
  { what: 'an empty item in a list', args: ['sweep', '--tasks', '2,,4'], words: ['--tasks', '""', 'a comma list of integers'] },
  { what: 'an empty mode in a list', args: ['sweep', '--mode', 'kvm-trunk,'], words: ['--mode', '""'] },
  { what: '--thread where no point is hackbench or ctxswitch', args: ['sweep', '--workload', 'pipe', '--thread'], words: ['--thread', 'no effect on pipe', 'hackbench, ctxswitch'] },
  { what: '--tasks where every point is hackbench', args: ['sweep', '--workload', 'hackbench', '--tasks', '2,4'], words: ['--tasks', 'has no effect on hackbench'] },
  { what: '--cache-size where no point is kvm-paravirt', args: ['sweep', '--mode', 'native,qemu', '--cache-size', '1,2'], words: ['--cache-size', 'in native', 'kvm-paravirt'] },
  { what: '--retries 11', args: ['sweep', '--retries', '11'], words: ['--retries', '11', 'from 0 to 10'] },
  { what: '--retries a billion', args: ['sweep', '--retries', '1000000000'], words: ['--retries', '1000000000'] },
  { what: '--workers 65', args: ['sweep', '--workers', '65'], words: ['--workers', '65', 'from 1 to 64'] },
  { what: '--results naming a file', args: ['sweep', '--loops', '10', '--results', f('plain-file')], words: ['--results', 'plain-file', 'is a file, not a directory'] },
  { what: '--results under a file', args: ['sweep', '--loops', '10', '--results', join(f('plain-file'), 'r')], words: ['--results', 'plain-file', 'not a directory'] },
  { what: '--results /proc/self (no hang)', args: ['sweep', '--loops', '10', '--results', '/proc/self'], words: ['--results', '/proc/self', 'cannot be written'] },
  { what: '--results empty', args: ['sweep', '--loops', '10', '--results', ''], words: ['--results', '""', 'a path'] },
  { what: '--results with a name too long for the file system', args: ['sweep', '--loops', '10', '--results', 'r'.repeat(300)], words: ['--results', 'too long for the file system'] },
  { what: '--results with a path too long', args: ['sweep', '--loops', '10', '--results', Array.from({ length: 20 }, () => 'p'.repeat(250)).join('/')], words: ['--results', 'too long a path'] },
  { what: '--plot naming a file', args: ['sweep', '--tasks', '2,4', '--loops', '10', '--plot', f('plain-file')], words: ['--plot', 'plain-file', 'is a file, not a directory'] },
  { what: '--plot /proc/self', args: ['sweep', '--tasks', '2,4', '--loops', '10', '--plot', '/proc/self'], words: ['--plot', '/proc/self', 'cannot be written'] },
  {
    what: '--plot where a plot would be a directory',
    args: ['sweep', '--tasks', '2,4', '--loops', '10', '--plot', 'plots'],
    setup: (d) => mkdirSync(join(d, 'plots', 'metric-vs-tasks.svg'), { recursive: true }),
    words: ['--plot', 'metric-vs-tasks.svg', 'is a directory, where a plot should be written'],
  },
  {
    what: 'a store directory that is a link',
    args: ['sweep', '--name', 'linked', '--loops', '10'],
    setup: (d) => symlinkSync(fx, join(d, 'results', 'linked')),
    words: ['--results', 'results/linked', 'is a symbolic link, not a directory of the store'],
  },
  { what: 'an unknown format', args: ['sweep', '--format', 'pdf'], words: ['--format', '"pdf"', 'table, json, csv, md'] },
  // --- reproduce: names, files, YAML and JSON that anyone may write
  { what: 'reproduce ../x', args: ['reproduce', '../x'], words: ['reproduce', '"../x"', 'an experiment name'] },
  { what: 'reproduce ..', args: ['reproduce', '..'], words: ['reproduce', '".."'] },
  { what: 'reproduce a missing file', args: ['reproduce', 'missing.yaml'], words: ['missing.yaml', 'no such file'] },
  { what: 'reproduce a FIFO (no hang)', args: ['reproduce', f('fifo.yaml')], words: ['fifo.yaml', 'is a FIFO, not a file'] },
  { what: 'reproduce a link to /dev/zero', args: ['reproduce', f('zero.yaml')], words: ['zero.yaml', 'is a character device, not a file'] },
  { what: 'reproduce a directory', args: ['reproduce', f('dir.yaml')], words: ['dir.yaml', 'is a directory, not a file'] },
  { what: 'reproduce a file over 4 MiB', args: ['reproduce', f('big.yaml')], words: ['big.yaml', 'larger than 4 MiB'] },
  { what: 'a 200,000-deep JSON array', args: ['reproduce', f('deep.json')], words: ['deep.json', 'nested deeper than 64 levels'] },
  { what: 'a 200,000-deep YAML flow', args: ['reproduce', f('deep-flow.yaml')], words: ['deep-flow.yaml', 'nested deeper than 64 levels'] },
  { what: 'a 200,000-deep YAML sequence', args: ['reproduce', f('deep-dash.yaml')], words: ['deep-dash.yaml', 'nested deeper than 64 levels'] },
  { what: 'a 1,000-deep YAML map', args: ['reproduce', f('deep-map.yaml')], words: ['deep-map.yaml', 'nested deeper than 64 levels'] },
  { what: 'a YAML tag (one line, no warning)', args: ['reproduce', f('tag.yaml')], words: ['tag.yaml', 'Unresolved tag', 'line 1'] },
  { what: 'a local YAML tag', args: ['reproduce', f('local-tag.yaml')], words: ['local-tag.yaml', 'Unresolved tag: !foo'] },
  { what: 'a known YAML tag', args: ['reproduce', f('binary.yaml')], words: ['binary.yaml', 'YAML tags are not allowed', 'binary at line 2'] },
  { what: 'a YAML alias bomb', args: ['reproduce', f('alias-bomb.yaml')], words: ['alias-bomb.yaml', 'alias'] },
  { what: 'a duplicate YAML key', args: ['reproduce', f('duplicate-key.yaml')], words: ['duplicate-key.yaml', 'not valid YAML', 'unique'] },
  { what: 'two YAML documents', args: ['reproduce', f('two-documents.yaml')], words: ['two-documents.yaml', 'multiple documents'] },
  { what: 'an empty file', args: ['reproduce', f('empty.yaml')], words: ['empty.yaml', 'is empty', 'name, description'] },
  { what: 'a JSON array', args: ['reproduce', f('array.json')], words: ['array.json', 'is not an experiment', '[1,2,3]'] },
  { what: 'a YAML string', args: ['reproduce', f('string.yaml')], words: ['string.yaml', 'is not an experiment'] },
  { what: 'a grid of 10^9 points in a file', args: ['reproduce', f('grid-1e9.yaml')], words: ['grid-1e9.yaml', 'grid', '1000000000 points', 'at most 100000'] },
  { what: 'a grid of 10^6 points in a file', args: ['reproduce', f('grid-1e6.json')], words: ['grid-1e6.json', '1000000 points'] },
  { what: '100,001 runs', args: ['reproduce', f('runs-100001.json')], words: ['runs-100001.json', 'runs', '100001 points'] },
  { what: '__proto__ in a base', args: ['reproduce', f('proto-base.json')], words: ['proto-base.json', 'base.__proto__', 'unknown parameter'] },
  { what: '__proto__ as a grid axis', args: ['reproduce', f('proto-grid.json')], words: ['proto-grid.json', 'grid.__proto__', 'unknown parameter'] },
  { what: '__proto__ in a YAML run', args: ['reproduce', f('proto.yaml')], words: ['proto.yaml', 'runs[0].__proto__', 'unknown parameter'] },
  { what: 'a grid key constructor', args: ['reproduce', f('constructor-grid.yaml')], words: ['constructor-grid.yaml', 'grid.constructor', 'unknown parameter'] },
  { what: 'a run key toString', args: ['reproduce', f('tostring-run.yaml')], words: ['tostring-run.yaml', 'runs[0].toString', 'unknown parameter'] },
  { what: 'name: ..', args: ['reproduce', f('name-dotdot.yaml')], words: ['name-dotdot.yaml', 'name', '".."'] },
  { what: 'name: .', args: ['reproduce', f('name-dot.yaml')], words: ['name-dot.yaml', 'name', '"."'] },
  { what: 'a name that is a path', args: ['reproduce', f('name-slash.json')], words: ['name-slash.json', 'name', '"../../etc"'] },
  { what: 'a name too long', args: ['reproduce', f('name-long.yaml')], words: ['name-long.yaml', 'name', 'at most 64'] },
  { what: 'a plot file named ..', args: ['reproduce', f('plot-dotdot.yaml')], words: ['plot-dotdot.yaml', 'plots[0].file', '".."'] },
  { what: 'a grid axis no point uses', args: ['reproduce', f('ignored-grid.yaml')], words: ['ignored-grid.yaml', 'grid.thread[0]', 'no effect on pipe'] },
  { what: 'a base field no run uses', args: ['reproduce', f('ignored-base.yaml')], words: ['ignored-base.yaml', 'base.cacheSize', '16 has no effect in kvm-trunk'] },
  { what: 'profile: constructor', args: ['reproduce', f('profile-constructor.yaml')], words: ['profile-constructor.yaml', 'base.profile', '"constructor"'] },
  { what: 'a point that does not resolve', args: ['reproduce', f('vcpus-idle.yaml')], words: ['vcpus-idle.yaml', 'grid.vcpus[1]', '1 for idle'] },
  { what: '--experiments that does not exist', args: ['reproduce', 'published-table', '--experiments', '/nonexistent'], words: ['--experiments', '/nonexistent', 'does not exist'] },
  // --- report: names, filters, stores in a bad state
  { what: 'report ../x', args: ['report', '../x'], words: ['report', '"../x"', 'an experiment or sweep name'] },
  { what: 'report ..', args: ['report', '..'], words: ['report', '".."'] },
  { what: 'report a name with a slash', args: ['report', 'a/b'], words: ['report', '"a/b"'] },
  { what: '--where loops=abc (not "run reproduce first")', args: ['report', '--where', 'loops=abc'], words: ['--where', 'loops', '"abc"', 'an integer from 1 to 100000000'] },
  { what: '--where mode=kvm', args: ['report', '--where', 'mode=kvm'], words: ['--where', 'mode', '"kvm"'] },
  { what: '--where profile=constructor', args: ['report', '--where', 'profile=constructor'], words: ['--where', 'profile', '"constructor"'] },
  { what: '--where __proto__=1', args: ['report', '--where', '__proto__=1'], words: ['--where', '"__proto__=1"', 'field=value'] },
  { what: '--where without a value', args: ['report', '--where', 'loops'], words: ['--where', '"loops"'] },
  { what: 'report --plot naming a file', args: ['report', 'published-table', '--plot', f('plain-file')], words: ['--plot', 'plain-file', 'not a directory'] },
  { what: 'report --html naming a file', args: ['report', 'published-table', '--html', f('plain-file')], words: ['--html', 'plain-file', 'not a directory'] },
  { what: 'report --html /proc/self', args: ['report', 'published-table', '--html', '/proc/self'], words: ['--html', '/proc/self', 'cannot be written'] },
  {
    what: 'a store manifest that is a FIFO (no hang)',
    args: ['report', 'sw'],
    setup: (d) => {
      mkdirSync(join(d, 'results', 'sw'));
      mkfifo(join(d, 'results', 'sw', 'experiment.json'));
    },
    words: ['results/sw/experiment.json', 'is a FIFO, not a file'],
  },
  {
    what: 'a store manifest that links to /dev/zero',
    args: ['report', 'sw'],
    setup: (d) => {
      mkdirSync(join(d, 'results', 'sw'));
      symlinkSync('/dev/zero', join(d, 'results', 'sw', 'experiment.json'));
    },
    words: ['results/sw/experiment.json', 'is a symbolic link, not a file'],
  },
  {
    what: 'a store manifest nested 200,000 deep',
    args: ['report', 'sw'],
    setup: (d) => {
      mkdirSync(join(d, 'results', 'sw'));
      writeFileSync(join(d, 'results', 'sw', 'experiment.json'), deep(200000, '[', ']'));
    },
    words: ['results/sw/experiment.json', 'nested deeper than 64 levels'],
  },
  {
    what: 'a store manifest named ..',
    args: ['report', 'sw'],
    setup: (d) => {
      mkdirSync(join(d, 'results', 'sw'));
      writeFileSync(join(d, 'results', 'sw', 'experiment.json'), manifest({ name: '..' }));
    },
    words: ['results/sw/experiment.json', 'name', '".."'],
  },
  {
    what: 'a store manifest of 10^9 points',
    args: ['report', 'sw'],
    setup: (d) => {
      mkdirSync(join(d, 'results', 'sw'));
      const ten = Array.from({ length: 10 }, (_, i) => i + 1);
      writeFileSync(join(d, 'results', 'sw', 'experiment.json'), manifest({ grid: { seed: [...Array(1000).keys()], loops: [...Array(1000).keys()].map((i) => i + 1), tasks: ten, cacheSize: ten } }));
    },
    words: ['results/sw/experiment.json', 'grid', '100000000 points'],
  },
  { what: 'report --results naming a file', args: ['report', 'sw', '--results', f('plain-file')], words: ['--results', 'plain-file'] },
  { what: 'report with an unknown format', args: ['report', '--format', 'pdf'], words: ['--format', '"pdf"'] },
  // --- list and calibrate
  { what: 'list --experiments that does not exist', args: ['list', '--experiments', '/nonexistent'], words: ['--experiments', '/nonexistent', 'does not exist'] },
  { what: 'list --experiments naming a file', args: ['list', '--experiments', f('plain-file')], words: ['--experiments', 'is not a directory'] },
  { what: 'calibrate ../x', args: ['calibrate', '../x'], words: ['calibrate', '"../x"'] },
  { what: 'calibrate a FIFO (no hang)', args: ['calibrate', f('fifo.yaml')], words: ['fifo.yaml', 'is a FIFO, not a file'] },
  { what: 'calibrate a spec with a YAML tag', args: ['calibrate', f('tag.yaml')], words: ['tag.yaml', 'Unresolved tag'] },
  { what: 'calibrate --start constructor', args: ['calibrate', '--start', 'constructor'], words: ['--start', '"constructor"', 'core2-2007'] },
  { what: 'calibrate --out under /proc', args: ['calibrate', '--out', '/proc/self/fitted.json'], words: ['--out', '/proc/self', 'cannot be written'] },
  // trace analyze
  { what: 'trace: a line that is no event', args: ['trace', 'analyze', f('trace-bad-line.txt')], words: ['trace-bad-line.txt', 'line 3', 'expected an event line', '"hello world"'] },
  { what: 'trace: no sched_switch', args: ['trace', 'analyze', f('trace-no-switch.txt')], words: ['trace-no-switch.txt', 'no sched_switch event'] },
  { what: 'trace: not gzip', args: ['trace', 'analyze', f('trace-bad-gzip.txt.gz')], words: ['trace-bad-gzip.txt.gz', 'not a valid gzip file'] },
  { what: 'trace: a FIFO', args: ['trace', 'analyze', f('fifo.yaml')], words: ['fifo.yaml', 'FIFO'] },
  { what: 'trace: a directory', args: ['trace', 'analyze', f('dir.yaml')], words: ['dir.yaml', 'is a directory'] },
  { what: 'trace: missing', args: ['trace', 'analyze', f('nope.txt')], words: ['nope.txt', 'does not exist'] },
  { what: 'trace: --kthreads not a pattern', args: ['trace', 'analyze', f('trace-ok.txt'), '--kthreads', '(['], words: ['--kthreads', '"(["', 'regular expression'] },
  { what: 'trace: --cpus past the trace', args: ['trace', 'analyze', f('trace-ok.txt'), '--cpus', '0,3'], words: ['--cpus', '3', 'the trace has 1'] },
  { what: 'trace: --cpus negative', args: ['trace', 'analyze', f('trace-ok.txt'), '--cpus', '-1'], words: ['--cpus', 'comma list of CPU numbers'] },
  { what: 'trace: --plot a file', args: ['trace', 'analyze', f('trace-ok.txt'), '--plot', f('plain-file')], words: ['--plot', 'plain-file'] },
  // the trace workload
  { what: 'trace workload without --trace', args: ['run', '--workload', 'trace'], words: ['--trace', '""', 'a path to a trace file'] },
  { what: 'trace workload on a FIFO (no hang)', args: ['run', '--workload', 'trace', '--trace', f('fifo.yaml')], words: ['--trace', 'fifo.yaml', 'a FIFO'] },
  { what: 'trace workload on a directory', args: ['run', '--workload', 'trace', '--trace', f('dir.yaml')], words: ['--trace', 'is a directory'] },
  { what: 'trace workload on a bad line', args: ['run', '--workload', 'trace', '--trace', f('trace-bad-line.txt')], words: ['--trace', 'line 3', 'expected an event line'] },
  { what: '--time-scale 0', args: ['run', '--workload', 'trace', '--trace', f('trace-ok.txt'), '--time-scale', '0'], words: ['--time-scale', '0', 'a number above 0'] },
  { what: '--time-scale abc', args: ['run', '--workload', 'trace', '--trace', f('trace-ok.txt'), '--time-scale', 'abc'], words: ['--time-scale', '"abc"'] },
  { what: '--cpus past the trace (run)', args: ['run', '--workload', 'trace', '--trace', f('trace-ok.txt'), '--cpus', '4'], words: ['--cpus', '"4"', 'it has 1'] },
  { what: '--vcpus against the trace', args: ['run', '--workload', 'trace', '--trace', f('trace-ok.txt'), '--vcpus', '2'], words: ['--vcpus', '2', 'one vCPU per replayed CPU'] },
  { what: '--trace with ctxswitch', args: ['run', '--trace', f('trace-ok.txt')], words: ['--trace', 'has no effect on ctxswitch', 'applies to trace'] },
  // --- second battery: traces (bounded memory before anything is allocated)
  { what: 'trace: a CPU number of 10^8', args: ['trace', 'analyze', f('trace-cpu-huge.txt')], words: ['trace-cpu-huge.txt', 'line 1', 'a CPU number below 8192'] },
  { what: 'trace: a trace-cmd header of 10^9 CPUs', args: ['trace', 'analyze', f('trace-header-cpus.txt')], words: ['trace-header-cpus.txt', 'line 2', 'a CPU count of at most 8192'] },
  { what: 'trace: an ftrace #P of 10^6 CPUs', args: ['trace', 'analyze', f('trace-hash-p.txt')], words: ['trace-hash-p.txt', 'line 1', 'at most 8192'] },
  { what: 'trace: a pid past PID_MAX_LIMIT', args: ['trace', 'analyze', f('trace-pid-huge.txt')], words: ['trace-pid-huge.txt', 'a pid of at most 4194304'] },
  { what: 'trace: a forked pid past PID_MAX_LIMIT', args: ['trace', 'analyze', f('trace-fork-pid-huge.txt')], words: ['trace-fork-pid-huge.txt', 'line 2', 'a pid of at most 4194304'] },
  { what: 'trace: a migration to CPU 70000', args: ['trace', 'analyze', f('trace-migrate-cpu.txt')], words: ['trace-migrate-cpu.txt', 'line 2', 'a CPU number below 8192'] },
  { what: 'trace: binary bytes', args: ['trace', 'analyze', f('trace-binary.txt')], words: ['trace-binary.txt', 'line 1', 'expected'] },
  { what: 'trace: an empty file', args: ['trace', 'analyze', f('trace-empty.txt')], words: ['trace-empty.txt', 'no sched_switch event'] },
  { what: 'trace: comments only', args: ['trace', 'analyze', f('trace-only-comments.txt')], words: ['trace-only-comments.txt', 'no sched_switch event'] },
  { what: 'trace: one line of 3 MiB', args: ['trace', 'analyze', f('trace-long-line.txt')], words: ['trace-long-line.txt', 'line 1', 'expected'] },
  { what: 'trace: a switch cut short', args: ['trace', 'analyze', f('trace-bad-switch.txt')], words: ['trace-bad-switch.txt', 'line 1', 'a sched_switch with'] },
  { what: 'trace: a fork with a pid that is no number', args: ['trace', 'analyze', f('trace-bad-fork.txt')], words: ['trace-bad-fork.txt', 'line 2', 'sched_process_fork'] },
  { what: 'trace: a gzip cut short', args: ['trace', 'analyze', f('trace-truncated.txt.gz')], words: ['trace-truncated.txt.gz', 'gzip'] },
  { what: 'trace: a gzip bomb (600 MiB of newlines)', args: ['trace', 'analyze', f('trace-bomb.txt.gz')], words: ['trace-bomb.txt.gz', '512 MiB'] },
  { what: 'trace: a link to /dev/urandom (no hang)', args: ['trace', 'analyze', f('trace-urandom.txt')], words: ['trace-urandom.txt'] },
  { what: 'trace: a link loop', args: ['trace', 'analyze', f('loop-a.txt')], words: ['loop-a.txt'] },
  { what: 'trace workload: a gzip bomb', args: ['run', '--workload', 'trace', '--trace', f('trace-bomb.txt.gz')], words: ['--trace', 'trace-bomb.txt.gz', '512 MiB'] },
  { what: 'trace workload: a CPU number of 10^8', args: ['run', '--workload', 'trace', '--trace', f('trace-cpu-huge.txt')], words: ['--trace', 'a CPU number below 8192'] },
  // --- experiment files: numbers, names, plots
  { what: 'experiment: .inf', args: ['reproduce', f('exp-inf.yaml')], words: ['exp-inf.yaml', 'timeScale'] },
  { what: 'experiment: .nan', args: ['reproduce', f('exp-nan.yaml')], words: ['exp-nan.yaml', 'tasks'] },
  { what: 'experiment: 1e400', args: ['reproduce', f('exp-1e400.json')], words: ['exp-1e400.json', 'loops'] },
  { what: 'experiment: tasks -0', args: ['reproduce', f('exp-neg-zero.yaml')], words: ['exp-neg-zero.yaml', 'tasks'] },
  { what: 'experiment: tasks 2.5', args: ['reproduce', f('exp-float-tasks.yaml')], words: ['exp-float-tasks.yaml', 'tasks', '2.5'] },
  { what: 'experiment: a YAML merge key', args: ['reproduce', f('exp-merge.yaml')], words: ['exp-merge.yaml'] },
  { what: 'experiment: a control character in the name', args: ['reproduce', f('exp-bell.yaml')], words: ['exp-bell.yaml', 'name'] },
  { what: 'experiment: a newline in the name', args: ['reproduce', f('exp-newline-name.json')], words: ['exp-newline-name.json', 'name'] },
  { what: 'experiment: a NUL in the name', args: ['reproduce', f('exp-nul-name.json')], words: ['exp-nul-name.json', 'name'] },
  { what: 'experiment: a plot file a/b', args: ['reproduce', f('exp-plot-slash.yaml')], words: ['exp-plot-slash.yaml', 'file'] },
  { what: 'experiment: a plot file with a NUL', args: ['reproduce', f('exp-plot-nul.json')], words: ['exp-plot-nul.json', 'file'] },
  { what: 'experiment: a plot file -rf', args: ['reproduce', f('exp-plot-dash.yaml')], words: ['exp-plot-dash.yaml', 'file'] },
  { what: 'experiment: a plot of an unknown measure', args: ['reproduce', f('exp-plot-unknown-y.yaml')], words: ['exp-plot-unknown-y.yaml', 'y'] },
  { what: 'experiment: an empty grid axis', args: ['reproduce', f('exp-empty-grid.yaml')], words: ['exp-empty-grid.yaml', 'tasks'] },
  { what: 'experiment: a grid axis as a string', args: ['reproduce', f('exp-grid-string.yaml')], words: ['exp-grid-string.yaml', 'tasks'] },
  { what: 'experiment: seeds 0', args: ['reproduce', f('exp-seeds-0.yaml')], words: ['exp-seeds-0.yaml', 'seeds'] },
  { what: 'experiment: seeds a million', args: ['reproduce', f('exp-seeds-huge.yaml')], words: ['exp-seeds-huge.yaml', 'seeds'] },
  { what: 'experiment: a BOM, then a bad mode', args: ['reproduce', f('exp-bom.yaml')], words: ['exp-bom.yaml', 'mode', '"kvm"'] },
  { what: 'experiment: CRLF line ends, then tasks 0', args: ['reproduce', f('exp-crlf.yaml')], words: ['exp-crlf.yaml', 'tasks', '0'] },
  // --- calibration specs
  { what: 'calibrate: an unknown cost', args: ['calibrate', f('spec-unknown-cost.yaml')], words: ['spec-unknown-cost.yaml', 'cost', 'warpDrive'] },
  { what: 'calibrate: min above max', args: ['calibrate', f('spec-min-max.yaml')], words: ['spec-min-max.yaml', 'schedule'] },
  { what: 'calibrate: targets without published figures', args: ['calibrate', f('spec-no-targets.yaml')], words: ['targets', '"idle-guest" has no published figures'] },
  { what: 'calibrate: an unknown base profile', args: ['calibrate', f('spec-base-unknown.yaml')], words: ['spec-base-unknown.yaml', 'base', 'pentium-1993'] },
  { what: 'calibrate: a start outside the bounds', args: ['calibrate', f('spec-start-out.yaml')], words: ['spec-start-out.yaml', 'schedule', '100000'] },
  { what: 'calibrate: a negative tolerance', args: ['calibrate', f('spec-tolerance-neg.yaml')], words: ['spec-tolerance-neg.yaml', 'tolerance'] },
  { what: 'calibrate: --max-evals 0', args: ['calibrate', '--max-evals', '0'], words: ['--max-evals', '0'] },
  // --- compare and report
  { what: 'compare a store with itself', args: ['compare', 'x', 'x'], words: ['compare'] },
  { what: 'compare a FIFO (no hang)', args: ['compare', f('fifo.yaml'), 'x'], words: ['fifo.yaml'] },
  { what: 'compare one side only', args: ['compare', 'x'], words: ['missing required argument'] },
  { what: 'report --where on a field that is no field', args: ['report', 'x', '--where', 'rmrf=1'], words: ['--where', 'rmrf'] },
  { what: 'report --html into /dev/null', args: ['report', 'published-table', '--html', '/dev/null'], words: ['--html', '/dev/null'] },
  { what: 'report --plot into /dev/null', args: ['report', 'published-table', '--plot', '/dev/null'], words: ['--plot', '/dev/null'] },
];

/**
 * The cases that also run as processes of the built CLI, with --json: the exit code the
 * system sees, the same line, and one JSON error document on stdout.
 */
const SPAWNED = new Set([
  '--param __proto__ (an error, not dropped)',
  '--tasks with hackbench',
  '--name ..',
  'a grid of a million points',
  '--results /proc/self (no hang)',
  'a YAML tag (one line, no warning)',
  '--where loops=abc (not "run reproduce first")',
  'a store manifest that is a FIFO (no hang)',
  'list --experiments that does not exist',
  'an unknown command',
  'reproduce a FIFO (no hang)',
  '__proto__ as a grid axis',
  'too little memory for the guest',
  'a 200,000-deep JSON array',
]);

interface Outcome {
  code: number | string | null;
  signal?: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function spawnCli(args: string[], cwd: string): Promise<Outcome> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 20000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number | string; signal?: string }) | null;
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** What a directory holds, recursively, without opening anything but regular files (a FIFO would block). */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const r = `${rel}${name}`;
      if (st.isDirectory()) {
        out.push(`${r}/`);
        walk(p, `${r}/`);
      } else if (st.isFile()) out.push(`${r} ${readFileSync(p, 'utf8')}`);
      else out.push(`${r} (${st.isSymbolicLink() ? 'link' : st.isFIFO() ? 'fifo' : 'other'})`);
    }
  };
  walk(dir, '');
  return out;
}

let n = 0;
/** A directory for one run of a case: a store with a sentinel record, and what the case sets up. */
function caseDir(c: Case): { dir: string; before: string[] } {
  const dir = join(work, `c${n++}`);
  mkdirSync(join(dir, 'results', 'x'), { recursive: true });
  writeFileSync(join(dir, 'results', 'x', 'aaaaaaaaaaaaaaaaaaaa.json'), '{"sentinel": true}\n');
  c.setup?.(dir);
  return { dir, before: snapshot(dir) };
}


/** What every case must show. */
function check(expect: ExpectStatic, c: Case, r: Outcome, dir: string, before: string[], json: boolean): void {
  expect(r.signal ?? null, 'killed: it hung').toBeNull();
  expect(r.code, r.stderr).toBe(c.code ?? 2);
  expect(r.ms).toBeLessThan(15000);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines, r.stderr).toHaveLength(1);
  const line = lines[0]!;
  expect(line).toMatch(/^error: /);
  expect(line).not.toMatch(/\bat .*:\d+:\d+|Error: |TypeError|RangeError|Warning/);
  for (const w of c.words) expect(line).toContain(w);
  if (json) {
    const docs = r.stdout.trim().split('\n');
    expect(docs).toHaveLength(1);
    const doc = JSON.parse(docs[0]!);
    expect(doc.schemaVersion).toBe(2);
    expect(Object.keys(doc.error)).toEqual(['code', 'option', 'file', 'field', 'value', 'allowed', 'message']);
    expect(doc.error.code).toMatch(/^E(USAGE|CONFIG|EXPERIMENT|PATH|STORE)$/);
    expect(doc.error.message).toBe(line.slice('error: '.length));
  } else expect(r.stdout).toBe('');
  expect(snapshot(dir)).toEqual(before);
}

describe('hostile input: exit 2, one line naming what is wrong, nothing else, nothing written', () => {
  const fxBefore = snapshot(fx);
  // Every case in one process of the CLI (test/support/cli-batch.js), in its own directory.
  const dirs = CASES.map(caseDir);
  const casesFile = join(work, 'cases.json');
  writeFileSync(casesFile, JSON.stringify(CASES.map((c, i) => ({ cwd: dirs[i]!.dir, args: c.args }))));
  const batch = new Promise<Outcome[]>((resolve, reject) => {
    execFile(process.execPath, [BATCH, casesFile], { encoding: 'utf8', timeout: 120000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`the batch failed: ${err.message} ${stderr}`));
      else resolve(JSON.parse(stdout) as Outcome[]);
    });
  });

  it('has at least 60 cases, and the shared files are only read', async ({ expect }) => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
    await batch;
    expect(snapshot(fx)).toEqual(fxBefore);
  });

  CASES.forEach((c, i) => {
    it(c.what, async ({ expect }) => {
      const r = (await batch)[i]!;
      check(expect, c, r, dirs[i]!.dir, dirs[i]!.before, false);
    });
  });

  for (const c of CASES.filter((c) => SPAWNED.has(c.what))) {
    it.concurrent(`${c.what} (bin/vcpusim.js --json)`, async ({ expect }) => {
      const { dir, before } = caseDir(c);
      check(expect, c, await spawnCli([...c.args, '--json'], dir), dir, before, true);
    });
  }
});
