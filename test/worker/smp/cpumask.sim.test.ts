import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../shared/config.js';
import { UnixStream } from '../../../worker/guest/ipc/unix.js';
import type { Task } from '../../../worker/guest/task.js';
import { cpumaskAssign, cpumaskNew, cpumaskTest, lowestCpu } from '../../../worker/smp/cpumask.js';
import { Partition } from '../../../worker/smp/partition.js';
import { Vm } from '../../../worker/vm.js';

describe('cpumasks over 256 vCPUs', () => {
  it('vCPUs 2, 34, 66 and 255 are four members; clearing 34 leaves 66', () => {
    const m = cpumaskNew(256);
    expect(m.length).toBe(8);
    for (const c of [2, 34, 66, 255]) cpumaskAssign(m, c, true);
    cpumaskAssign(m, 34, false);
    expect([2, 34, 66, 255].map((c) => cpumaskTest(m, c))).toEqual([true, false, true, true]);
    const seen: number[] = [];
    for (let w = 0; w < m.length; w++) for (let bits = m[w]!; bits !== 0; bits &= bits - 1) seen.push(lowestCpu(w, bits));
    expect(seen).toEqual([2, 66, 255]);
  });

  it("a channel keeps a sleeper on vCPU 66 when vCPU 34's last sleeper leaves (vCPUs 64 up no longer alias 0-63)", () => {
    const ch = new UnixStream('t', { sndbuf: 4096, truesize: 512 }, 256);
    const t = {} as Task;
    ch.readWaitAt(66).add(t);
    ch.readWaitAt(34).add(t);
    ch.readWaitAt(34).clear();
    expect(cpumaskTest(ch.readers, 66)).toBe(true);
    expect(cpumaskTest(ch.readers, 34)).toBe(false);
    expect(cpumaskTest(ch.readers, 2)).toBe(false);
  });

  it('hackbench 2 on 256 vCPUs ends: every receiver on vCPUs 64 up is woken by its senders', () => {
    // With 64-bit sleeper masks the receivers on vCPUs 64-74 slept for ever (14 tasks left).
    const cfg = resolveConfig({ mode: 'kvm-paravirt', workload: 'hackbench', groups: 2, loops: 4, vcpus: 256, memoryMiB: 896 });
    const vm = new Vm(cfg);
    const p = new Partition(vm);
    let quanta = 0;
    while (!vm.guard(() => p.step()) && quanta < 5000) quanta++;
    expect(vm.kernel.liveTasks).toBe(0);
    // Tasks did run on vCPUs past 63.
    expect(vm.result().perVcpu.filter((v) => v.vcpu >= 64 && v.guest.contextSwitches > 0).length).toBeGreaterThan(0);
  }, 60_000);
});
