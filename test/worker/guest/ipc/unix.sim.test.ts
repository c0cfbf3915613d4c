import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../../shared/config.js';
import { SK_WMEM_MAX, skbDataAlign, SIZEOF_SK_BUFF } from '../../../../shared/guest-build.js';
import { TASK_INTERRUPTIBLE, TASK_RUNNING } from '../../../../worker/guest/task.js';
import { Vm } from '../../../../worker/vm.js';

describe('unix stream socket buffers (net/unix/af_unix.c, net/core/sock.c v2.6.20)', () => {
  it('the default send buffer is SK_WMEM_MAX = (sizeof(struct sk_buff) + 256) * 256 = 110,592 bytes', () => {
    expect(SIZEOF_SK_BUFF).toBe(176);
    expect(SK_WMEM_MAX).toBe(110592);
    expect(resolveConfig({}).sndbuf).toBe(110592);
    // A 100-byte write: SKB_DATA_ALIGN(100) = 128 (128-byte lines) + the sk_buff.
    expect(skbDataAlign(100) + SIZEOF_SK_BUFF).toBe(304);
  });

  it('364 hackbench writes fit (the writer sleeps once wmem >= sndbuf); it is woken when 4 x wmem <= sndbuf, after 274 reads', () => {
    const vm = new Vm(resolveConfig({ mode: 'native', workload: 'ctxswitch', tasks: 2 }));
    const k = vm.kernel;
    const cpu = k.cpus[0]!;
    const [writer, reader] = [k.procs.tasks[1]!, k.procs.tasks[2]!];
    writer.state = reader.state = TASK_RUNNING;
    const ch = k.newUnixStream('test');
    let writes = 0;
    while (k.write(cpu, writer, ch, 100)) writes++;
    // 363 x 304 = 110,352 < 110,592, so the 364th write is still allowed; the 365th sleeps.
    expect(writes).toBe(364);
    expect(ch.wmemAlloc).toBe(364 * 304);
    expect(writer.state).toBe(TASK_INTERRUPTIBLE);
    // unix_writable: 4 x wmem <= 110,592 at wmem <= 27,648 = 90 skbs, so after 364 - 90 reads.
    for (let i = 0; i < 273; i++) expect(k.read(cpu, reader, ch, 100)).toBe(true);
    expect(writer.state).toBe(TASK_INTERRUPTIBLE);
    expect(k.read(cpu, reader, ch, 100)).toBe(true);
    expect(writer.state).toBe(TASK_RUNNING);
  });
});
