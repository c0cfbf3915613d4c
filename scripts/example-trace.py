#!/usr/bin/env python3
"""Write experiments/traces/example.txt.gz: a synthetic ftrace sched_switch trace (not a
recording) for the trace-cache-sweep experiment and the docs. Two CPUs; 24 processes, two
of them with 3 threads; every 2,000 switches the busy set shifts; a kworker and the idle
task now and then. Seeded: the same file every time."""
import gzip, random, sys

random.seed(2007)
N, CPUS = 20000, 2
lines = ["# tracer: nop", "#", f"# entries-in-buffer/entries-written: {N}/{N}   #P:{CPUS}",
         "# synthetic: written by scripts/example-trace.py, not recorded",
         "#           TASK-PID    TGID     CPU#  ||||  TIMESTAMP  FUNCTION"]
procs = [(1000 + 10 * i, 3 if i in (3, 7) else 1) for i in range(24)]
cur = [0] * CPUS
name = lambda pid: "swapper" if pid == 0 else ("kworker/0:1" if pid == 7 else f"app{(pid - 1000) // 10}")
tgid = lambda pid: "-------" if pid in (0, 7) else str(1000 + ((pid - 1000) // 10) * 10)
t = 1000.0
for i in range(N):
    c = i % CPUS if random.random() < 0.7 else random.randrange(CPUS)
    r = random.random()
    if r < 0.05:
        nxt = 0
    elif r < 0.08:
        nxt = 7
    else:
        base = (i // 2000) * 3
        p, threads = procs[(base + int(random.expovariate(0.35))) % len(procs)]
        nxt = p + random.randrange(threads)
    if nxt == cur[c]:
        continue
    t += random.expovariate(1 / 20e-6)
    prev = cur[c]
    pn = f"swapper/{c}" if prev == 0 else name(prev)
    nn = f"swapper/{c}" if nxt == 0 else name(nxt)
    shown = "<idle>" if prev == 0 else pn
    lines.append(f"{shown:>16}-{prev:<7d} ({tgid(prev):>7}) [{c:03d}] d..2 {t:.6f}: sched_switch: "
                 f"prev_comm={pn} prev_pid={prev} prev_prio=120 prev_state={'R' if random.random() < 0.2 else 'S'} ==> "
                 f"next_comm={nn} next_pid={nxt} next_prio=120")
    cur[c] = nxt
with gzip.GzipFile(sys.argv[1] if len(sys.argv) > 1 else "experiments/traces/example.txt.gz", "wb", mtime=0) as f:
    f.write(("\n".join(lines) + "\n").encode())
