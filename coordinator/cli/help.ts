/** The examples and notes each command's --help ends with (docs/cli.md is generated from the program, these included). */
export const HELP = {
  program: `
Examples:
  vcpusim reproduce                      run the published table and compare
  vcpusim run --mode kvm-trunk --workload ctxswitch --tasks 2
  vcpusim sweep --mode kvm-paravirt --cache-size 1,4,16 --tasks 2,50,200 --loops 100
  vcpusim report cr3-cache-sweep --plot plots
  vcpusim list

Exit codes: 0 ok, 1 some run failed, 2 usage or config error, 130 interrupted.`,
  run: `
Examples:
  vcpusim run --mode kvm-trunk --workload ctxswitch --tasks 2
  vcpusim run --mode kvm-paravirt --workload hackbench --groups 5 --cache-size 16 --json
  vcpusim run --mode kvm-upstream --workload ctxswitch --tasks 2 --exits
  vcpusim run --mode kvm-trunk --workload hackbench --groups 1 --exits --event ioport
  vcpusim run --mode kvm-trunk --workload hackbench --vcpus 2 --exits --event kvm_stat --vcpu 1
  vcpusim run --mode kvm-paravirt --workload hackbench --groups 50 --vcpus 16 --memory 1024 --workers 2`,
  sweep: (maxPoints: number) => `
Every parameter option takes a comma list; the sweep runs every combination (at most ${maxPoints}).
Finished runs are stored as they finish: an interrupted sweep resumes when run again.

Examples:
  vcpusim sweep --mode kvm-paravirt --workload ctxswitch --cache-size 1,2,4,8 --tasks 2,50,200 --loops 100
  vcpusim sweep --mode kvm-paravirt --workload hackbench --cache-size 1,2,4,8,16,32,64 --groups 1,5,10 --mmu-pages 2048 --name cr3-hackbench
  vcpusim sweep --mode kvm-trunk,kvm-paravirt --workload hackbench --mmu-pages 64,256,1024 --plot plots --json`,
  reproduce: `
Examples:
  vcpusim reproduce                          the published table: simulated vs published, error in %
  vcpusim reproduce trace-cache-sweep --trace sched.txt
  vcpusim reproduce cr3-cache-sweep --plot plots
  vcpusim reproduce shadow-pool-sweep --format csv
  vcpusim reproduce experiments/my.yaml --fresh --json`,
  worker: `
Examples:
  vcpusim worker --queue redis://10.0.0.5:6379
  vcpusim worker --queue redis://127.0.0.1:6379 --workers 2

SIGINT/SIGTERM: finish the running jobs, then exit (a second signal stops at once; the jobs are run elsewhere).`,
  report: `
Examples:
  vcpusim report                              the published table from stored results
  vcpusim report --format md
  vcpusim report cr3-cache-sweep --plot docs/plots
  vcpusim report published-table --html report   one page: table, plots, exit reports, configs
  vcpusim report published-table --exits --where mode=kvm-trunk --where workload=ctxswitch
  vcpusim report published-table --exits --event ioport --key time --format csv
  vcpusim report sweep --format csv`,
  compare: `
A and B are resolved in this order: a path ending in .yaml, .yml or .json is an experiment
file (its runs read from --results); an argument with a "/" is a store directory
(results/<name>, read through the experiment.json it holds); any other is a name: an
experiment in --experiments, else a sweep stored in --results.

Examples:
  vcpusim compare cr3-cache-sweep results-old/cr3-cache-sweep
  vcpusim compare sweep-trunk sweep-paravirt --format csv`,
  trace: `
Examples:
  trace-cmd record -e sched_switch -e sched_process_fork -e sched_process_exec sleep 10
  trace-cmd report > sched.txt && vcpusim trace analyze sched.txt
  perf sched record -- sleep 10 && perf sched script | gzip > sched.txt.gz
  vcpusim trace analyze sched.txt.gz --json --plot plots`,
  list: '\nExamples:\n  vcpusim list\n  vcpusim list --json',
  calibrate: '\nExamples:\n  vcpusim calibrate\n  vcpusim calibrate core2-2007 --max-evals 40 --dry-run\n\nEach evaluation simulates every target cell once per seed, over the worker threads; progress goes to stderr.',
};
