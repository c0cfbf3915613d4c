/**
 * `report --html DIR` (the built CLI; `npm test` builds first): the page is loaded in
 * headless Chromium and the rendered DOM is checked against the store: the published
 * table's figures, one SVG per plot, an exit report and a config block per run, and the
 * hostile text of the experiment file and of a trace path shown as text, never as markup.
 */
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml } from '../../coordinator/reports/html.js';
import { fmtNum } from '../../coordinator/reports/format.js';
import type { RunRecord } from '../../coordinator/store/record.js';

const BIN = fileURLToPath(new URL('../../bin/vcpusim.js', import.meta.url));
const EXAMPLE_TRACE = fileURLToPath(new URL('../../experiments/traces/example.txt.gz', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const work = mkdtempSync(join(tmpdir(), 'vcpusim-html-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: work });

/** The DOM after Chromium has parsed and laid out the page. */
function dumpDom(file: string): Promise<string> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: the HTML report test needs Debian's chromium (apt-get install chromium), or CHROMIUM=/path/to/chromium`);
  }
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--dump-dom', pathToFileURL(file).href], { encoding: 'utf8', timeout: 60000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${CHROMIUM} --dump-dom failed: ${err.message} ${stderr}`));
      else resolve(stdout);
    });
  });
}

const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
/** The elements that open with `open` (a regex source), each up to its closing tag (no nesting of the same tag inside). */
const elements = (dom: string, tag: string, attrs: string) => [...dom.matchAll(new RegExp(`<${tag}${attrs}[^>]*>([\\s\\S]*?)</${tag}>`, 'g'))];

// A trace file whose name is markup, and an experiment file whose texts are.
const HOSTILE_TRACE = '<img src=x onerror=alert(1)>.txt.gz';
const EXPERIMENT = `name: html-demo
description: "A <b>tiny</b> & hostile demo"
base:
  workload: trace
  trace: "${HOSTILE_TRACE}"
  mmuPages: 2048
grid:
  mode: [kvm-trunk, kvm-paravirt]
published:
  source: "made up <script>alert(2)</script>"
  rows:
    - label: "replayed <script>alert(3)</script>"
      match: { workload: trace }
      unit: us/switch
      values: { kvm-trunk: 5, kvm-paravirt: 2 }
plots:
  - { x: mode, y: exits, mark: bar, title: "exits <script>alert(4)</script>", file: exits-by-mode }
`;

describe('report --html', () => {
  const results = join(work, 'results');
  let stored: RunRecord[];
  let html: string;
  let dom: string;

  beforeAll(async () => {
    copyFileSync(EXAMPLE_TRACE, join(work, HOSTILE_TRACE));
    writeFileSync(join(work, 'html-demo.yaml'), EXPERIMENT);
    const run = cli(['reproduce', 'html-demo.yaml', '--results', results, '--workers', '1']);
    expect(run.stderr).toMatch(/html-demo: 2 configs, 2 run/);
    const rep = cli(['report', 'html-demo.yaml', '--results', results, '--html', 'out/page']);
    expect(rep.status).toBe(0);
    expect(rep.stderr).toContain('wrote out/page/index.html');
    const dir = join(results, 'html-demo');
    stored = readdirSync(dir)
      .filter((f) => /^[0-9a-f]{20}\.json$/.test(f))
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as RunRecord);
    expect(stored).toHaveLength(2);
    const file = join(work, 'out', 'page', 'index.html');
    html = readFileSync(file, 'utf8');
    dom = await dumpDom(file);
  }, 120000);

  it('the published table: one row per mode, the simulated figure is the stored one', () => {
    const table = elements(dom, 'table', ' id="published"');
    expect(table).toHaveLength(1);
    const rows = elements(table[0]![1]!, 'tr', ' data-key="[^"]*"');
    expect(rows.map((r) => /data-mode="([^"]+)"/.exec(r[0])![1])).toEqual(['kvm-trunk', 'kvm-paravirt']);
    for (const [mode, published] of [['kvm-trunk', 5], ['kvm-paravirt', 2]] as const) {
      const row = rows.find((r) => r[0].includes(`data-mode="${mode}"`))![0];
      const rec = stored.find((s) => s.config.mode === mode)!;
      const sim = /<td class="num simulated" data-value="([^"]*)">([^<]*)<\/td>/.exec(row)!;
      expect(Number(sim[1])).toBe(rec.result.metric.value);
      expect(sim[2]).toBe(fmtNum(rec.result.metric.value, 4));
      expect(/<td class="num published" data-value="([^"]*)">/.exec(row)![1]).toBe(String(published));
      const err = Number(/<td class="num error" data-value="([^"]*)">/.exec(row)![1]);
      expect(err).toBeCloseTo(((rec.result.metric.value - published) / published) * 100, 9);
      expect(/<td class="num n">(\d+)<\/td>/.exec(row)![1]).toBe('1');
    }
  });

  it('one inline SVG per plot (the file\'s, and simulated against published), with the stored exit counts as its bars', () => {
    const plots = elements(dom, 'section', ' class="plot"');
    expect(plots).toHaveLength(2);
    expect(plots[0]![0]).toContain('data-name="exits-by-mode"');
    expect(plots[1]![0]).toContain('data-name="simulated-vs-published"');
    expect((plots[0]![1]!.match(/<svg/g) ?? []).length).toBe(1);
    expect((dom.match(/<svg/g) ?? []).length).toBe(2);
    // Each bar is a stored run's exit count (Vega's aria-label of the mark names its datum).
    for (const rec of stored) expect(plots[0]![1]).toContain(`aria-label="mode: ${rec.config.mode}; VM exits: ${rec.result.exits.total}"`);
    // The plot title, hostile as it is, is a text node of the SVG.
    expect(plots[0]![1]).toContain('exits &lt;script&gt;alert(4)&lt;/script&gt;');
  });

  it('an exit report per run (perf kvm stat style) with its stored exit counts', () => {
    const exits = elements(dom, 'div', ' class="exit"');
    expect(exits.map((x) => /data-key="([^"]+)"/.exec(x[0])![1]).sort()).toEqual(stored.map((s) => s.key).sort());
    for (const x of exits) {
      const rec = stored.find((s) => x[0].includes(s.key))!;
      const pre = unescape(/<pre>([\s\S]*)<\/pre>/.exec(x[1]!)![1]!);
      expect(pre).toContain('Analyze events for all VMs, all VCPUs:');
      const total = Number(/Total Samples:(\d+)/.exec(pre)![1]);
      expect(total).toBe(rec.result.exits.total);
    }
  });

  it("a config block per run: its <pre> is the stored config's JSON", () => {
    const runs = elements(dom, 'details', ' class="run"');
    expect(runs).toHaveLength(2);
    for (const r of runs) {
      const key = /data-key="([^"]+)"/.exec(r[0])![1];
      const rec = stored.find((s) => s.key === key)!;
      const pre = /<pre class="config">([\s\S]*?)<\/pre>/.exec(r[1]!)![1]!;
      expect(JSON.parse(unescape(pre))).toEqual(rec.config);
      expect(rec.config.trace).toBe(join(work, HOSTILE_TRACE));
    }
  });

  it('hostile text shows as text: no element it names exists, and the page is self-contained', () => {
    expect(dom).not.toMatch(/<script/i);
    expect(dom).not.toMatch(/<img/i);
    expect(dom).not.toMatch(/<b>/);
    expect(dom).toContain(escapeHtml(join(work, HOSTILE_TRACE)).replace(/&quot;/g, '"'));
    expect(dom).toContain('replayed &lt;script&gt;alert(3)&lt;/script&gt;');
    expect(dom).toContain('made up &lt;script&gt;alert(2)&lt;/script&gt;');
    expect(dom).toContain('A &lt;b&gt;tiny&lt;/b&gt; &amp; hostile demo');
    // No file or address outside the page: no link, no src or href attribute, no url() in the CSS.
    expect(html).not.toMatch(/<link|<[^>]*\s(?:src|href|xlink:href)=|url\(/i);
    expect(html).toContain("default-src 'none'");
  });

  it('--html naming a file: one line, exit 2', () => {
    writeFileSync(join(work, 'plain-file'), 'x');
    const r = cli(['report', 'html-demo.yaml', '--results', results, '--html', 'plain-file']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/--html.*plain-file.*not a directory/);
  });
});

describe('report --html of a sweep (no published figures)', () => {
  it('table#runs: a row per stored run with its stored metric, a config block per run', async () => {
    const results = join(work, 'sweep-results');
    const run = cli(['sweep', '--name', 'html-sweep', '--results', results, '--tasks', '2,4', '--loops', '20', '--workers', '1']);
    expect(run.status).toBe(0);
    const rep = cli(['report', 'html-sweep', '--results', results, '--html', 'sweep-page']);
    expect(rep.status).toBe(0);
    const dir = join(results, 'html-sweep');
    const stored = readdirSync(dir)
      .filter((f) => /^[0-9a-f]{20}\.json$/.test(f))
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as RunRecord);
    expect(stored).toHaveLength(2);
    const dom = await dumpDom(join(work, 'sweep-page', 'index.html'));
    expect(elements(dom, 'table', ' id="published"')).toHaveLength(0);
    const rows = elements(elements(dom, 'table', ' id="runs"')[0]![1]!, 'tr', ' data-key="[^"]*"');
    expect(rows).toHaveLength(2);
    for (const rec of stored) {
      const row = rows.find((r) => r[0].includes(`data-key="${rec.key}"`))![1]!;
      expect(row).toContain(`<td class="field" data-field="tasks">${rec.config.tasks}</td>`);
      expect(Number(/<td class="num metric" data-value="([^"]*)">/.exec(row)![1])).toBe(rec.result.metric.value);
    }
    expect(elements(dom, 'details', ' class="run"')).toHaveLength(2);
    expect(elements(dom, 'div', ' class="exit"')).toHaveLength(2);
  }, 120000);
});
