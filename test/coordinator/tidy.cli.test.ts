import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_FIELDS } from '../../shared/config.js';

const BIN = fileURLToPath(new URL('../../bin/vcpusim.js', import.meta.url));
const cli = (args: string[], cwd: string) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd });

describe('report --format csv --tidy', () => {
  it('one row per run x statistic, with the full config, columns named as the JSON keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vcpusim-tidy-'));
    expect(cli(['sweep', '--mode', 'kvm-paravirt', '--cache-size', '1,4', '--loops', '20', '--name', 't'], dir).status).toBe(0);
    const r = cli(['report', 't', '--format', 'csv', '--tidy'], dir);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(['key', ...CONFIG_FIELDS, 'vcpu', 'statistic', 'value'].join(','));
    // By hand, for one vCPU: totals metric.value, guestTimeNs, hostCpuUtilisation, exits.total and
    // 26 group fields (cr3Cache 6, mmu 7, tlb 3, pic 3, guest 7); the vCPU guestTimeNs, haltedNs,
    // exits.total and 23 group fields; each exit reason a count and an ns, in both.
    let expected = 0;
    const store = join(dir, 'results', 't');
    const files = readdirSync(store).filter((f) => f !== 'experiment.json');
    expect(files).toHaveLength(2);
    for (const f of files) {
      const rec = JSON.parse(readFileSync(join(store, f), 'utf8'));
      expected += 30 + 26 + 2 * Object.keys(rec.result.exits.byReason).length + 2 * Object.keys(rec.result.perVcpu[0].exits.byReason).length;
      // The exit detail, in the VM's totals and for vCPU 0: six moments per reason, per port
      // and for HLT's span when there is one, and tlbFlush and signalExits.
      const d = rec.result.exitDetail;
      const detail = (x: { vmexit: object; ioport: unknown[]; hltToEntry: unknown }) => 6 * Object.keys(x.vmexit).length + 6 * x.ioport.length + (x.hltToEntry ? 6 : 0) + 2;
      expected += detail(d) + detail(d.perVcpu[0]);
    }
    expect(lines).toHaveLength(1 + expected);
    expect(lines.filter((l) => l.endsWith(',,cr3Cache.size,1') || l.endsWith(',,cr3Cache.size,4'))).toHaveLength(2);
    expect(lines.some((l) => /,0,exits\.byReason\.CR_ACCESS\.count,\d+$/.test(l))).toBe(true);
    expect(lines.some((l) => /,,exitDetail\.vmexit\.CR_ACCESS\.meanNs,[\d.]+$/.test(l))).toBe(true);
    const bad = cli(['report', 't', '--tidy'], dir);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('error: --tidy: has no effect with table; it applies with --format csv\n');
  });
});
