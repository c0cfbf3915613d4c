/**
 * `node dist/bench/tlb-replay.js '<config json>' [rounds]`: what the TLB model alone costs in
 * a run. Records every operation the run makes on its vCPUs' TLBs (lookups, fills,
 * flushes, invlpg, PCID loads) from the VM's build on, checks that a replay against fresh
 * TLBs of the same geometry gives every lookup the outcome it had in the run, then times
 * the replay (median of `rounds`) beside the run itself and the floor loop (floor.ts): the
 * TLB's share of a run, with no walk, no shadow MMU and no kernel around it, and what 0.15
 * of the floor would leave for the whole run. Then the same config with the guest's memory
 * accesses not simulated at all: what the kernel, the workload and the exits cost alone
 * (the guest's timing changes with it, so its counts are shown beside the run's).
 *
 * The recording wraps Tlb's methods on its prototype (a run of the bench alone; nothing
 * else loads this file). A second level is replayed with its first (Tlb.lookup and insert
 * reach it themselves); its own calls are not recorded.
 */
import { resolveConfig, type SimConfig } from '../shared/config.js';
import { Tlb, newTlb, type ClockOwner } from '../worker/machine/tlb.js';
import { GuestCpu } from '../worker/guest/cpu.js';
import { Vm } from '../worker/vm.js';
import { floorRate } from './floor.js';
import { configArg, failer, roundsArg } from './args.js';
import { median } from './median.js';
import { timeRun } from './time-run.js';

const fail: (line: string) => never = failer('tlb-replay');

/** Operation codes in the recorded stream; a lookup is its VPN (>= 0). */
const OP_FILL = -1;
const OP_FILL_GLOBAL = -2;
const OP_FLUSH_NON_GLOBAL = -3;
const OP_FLUSH_ALL = -4;
const OP_INVLPG = -5;
const OP_FLUSH_PCID = -6;
const OP_SET_PCID = -7;
/** The following operations are on TLB number (the next word). */
const OP_SWITCH = -8;

interface Geometry {
  entries: number;
  ways: number;
  l2: { entries: number; ways: number; hit: number } | null;
}

class Recording {
  ops = new Float64Array(1 << 20);
  n = 0;
  /** Each lookup's outcome in the run (1: a hit), in order. */
  outcomes = new Uint8Array(1 << 20);
  lookups = 0;
  readonly tlbs = new Map<Tlb, number>();
  readonly geometry: Geometry[] = [];
  /** Second levels: not recorded (their first level's operations reach them). */
  readonly second = new Set<Tlb>();
  private cur = -1;

  push(t: Tlb, ...words: number[]): boolean {
    if (this.second.has(t)) return false;
    let id = this.tlbs.get(t);
    if (id === undefined) {
      id = this.tlbs.size;
      this.tlbs.set(t, id);
      this.geometry.push({ entries: t.sets * t.ways, ways: t.ways, l2: null });
    }
    if (id !== this.cur) {
      this.cur = id;
      words = [OP_SWITCH, id, ...words];
    }
    if (this.n + words.length > this.ops.length) {
      const grown = new Float64Array(this.ops.length * 2);
      grown.set(this.ops);
      this.ops = grown;
    }
    for (const w of words) this.ops[this.n++] = w;
    return true;
  }

  outcome(hit: boolean): void {
    if (this.lookups === this.outcomes.length) {
      const grown = new Uint8Array(this.outcomes.length * 2);
      grown.set(this.outcomes);
      this.outcomes = grown;
    }
    this.outcomes[this.lookups++] = hit ? 1 : 0;
  }
}

/** Wrap Tlb's operations so that a run's are recorded in `rec`; returns what puts them back. */
function record(rec: Recording): () => void {
  const p = Tlb.prototype;
  const saved = Object.getOwnPropertyDescriptors(p);
  type Method<A extends unknown[], R = void> = (this: Tlb, ...a: A) => R;
  const lookup = saved.lookup.value as Method<[number], boolean>;
  const insert = saved.insert.value as Method<[number, boolean]>;
  const flushNonGlobal = saved.flushNonGlobal.value as Method<[]>;
  const flushAll = saved.flushAll.value as Method<[]>;
  const flushPcid = saved.flushPcid.value as Method<[number]>;
  const invalidate = saved.invalidate.value as Method<[number]>;
  const addSecondLevel = saved.addSecondLevel.value as Method<[number, number, number, ClockOwner, { stlbHits: number }]>;
  const pcid = saved.pcid;
  p.lookup = function (this: Tlb, vpn: number): boolean {
    const hit = lookup.call(this, vpn);
    if (rec.push(this, vpn)) rec.outcome(hit);
    return hit;
  };
  p.insert = function (this: Tlb, vpn: number, isGlobal: boolean): void {
    rec.push(this, isGlobal ? OP_FILL_GLOBAL : OP_FILL, vpn);
    insert.call(this, vpn, isGlobal);
  };
  p.flushNonGlobal = function (this: Tlb): void {
    rec.push(this, OP_FLUSH_NON_GLOBAL);
    flushNonGlobal.call(this);
  };
  p.flushAll = function (this: Tlb): void {
    rec.push(this, OP_FLUSH_ALL);
    flushAll.call(this);
  };
  p.flushPcid = function (this: Tlb, id: number): void {
    rec.push(this, OP_FLUSH_PCID, id);
    flushPcid.call(this, id);
  };
  p.invalidate = function (this: Tlb, vpn: number): void {
    rec.push(this, OP_INVLPG, vpn);
    invalidate.call(this, vpn);
  };
  Object.defineProperty(p, 'pcid', {
    ...pcid,
    set(this: Tlb, id: number) {
      rec.push(this, OP_SET_PCID, id);
      pcid.set!.call(this, id);
    },
  });
  p.addSecondLevel = function (this: Tlb, entries: number, ways: number, hitCycles: number, owner: ClockOwner, stat: { stlbHits: number }): void {
    addSecondLevel.call(this, entries, ways, hitCycles, owner, stat);
    rec.second.add(this['l2']!);
    rec.push(this); // the TLB is known (and numbered) before its geometry is noted
    rec.geometry[rec.tlbs.get(this)!]!.l2 = { entries, ways, hit: hitCycles };
  };
  return () => Object.defineProperties(p, saved);
}

/** Fresh TLBs of the recorded geometry. */
function freshTlbs(g: readonly Geometry[]): Tlb[] {
  const owner = { clock: 0 };
  return g.map((x) => {
    const t = newTlb(x.entries, x.ways);
    if (x.l2 !== null) t.addSecondLevel(x.l2.entries, x.l2.ways, x.l2.hit, owner, { stlbHits: 0 });
    return t;
  });
}

/**
 * Replay the stream against `tlbs`; with `check`, the first lookup whose outcome differs
 * from the run's (its index), or -1. Returns -1 when not checking.
 */
function replay(ops: Float64Array, n: number, tlbs: Tlb[], check: Uint8Array | null): number {
  let t = tlbs[0]!;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const x = ops[i]!;
    if (x >= 0) {
      const hit = t.lookup(x);
      if (check !== null && (hit ? 1 : 0) !== check[k]) return k;
      k++;
    } else if (x === OP_FILL) t.insert(ops[++i]!, false);
    else if (x === OP_FILL_GLOBAL) t.insert(ops[++i]!, true);
    else if (x === OP_FLUSH_NON_GLOBAL) t.flushNonGlobal();
    else if (x === OP_FLUSH_ALL) t.flushAll();
    else if (x === OP_INVLPG) t.invalidate(ops[++i]!);
    else if (x === OP_FLUSH_PCID) t.flushPcid(ops[++i]!);
    else if (x === OP_SET_PCID) t.pcid = ops[++i]!;
    else t = tlbs[ops[++i]!]!;
  }
  return -1;
}

const [text, roundsText = '7'] = process.argv.slice(2);
if (text === undefined) fail("usage: node dist/bench/tlb-replay.js '<config json>' [rounds]");
const json = configArg(text, fail);
const rounds = roundsArg(roundsText, fail);
let cfg: SimConfig;
try {
  cfg = resolveConfig(json as Partial<SimConfig>);
} catch (e) {
  fail(`config refused: ${(e as Error).message.split('\n')[0]}`);
}

// The run, recorded from the VM's build on (boot fills the TLBs the measured part starts with).
const rec = new Recording();
const stopRecording = record(rec);
let recorded: ReturnType<typeof timeRun>;
try {
  recorded = timeRun(cfg);
} catch (e) {
  fail(`the run of this config failed: ${(e as Error).message.split('\n')[0]}`);
}
stopRecording();
const { vm, allEvents: events, result } = recorded;

const bad = replay(rec.ops, rec.n, freshTlbs(rec.geometry), rec.outcomes);
if (bad >= 0) fail(`lookup ${bad} of the replay did not have its outcome in the run (${rec.outcomes[bad] === 1 ? 'a hit' : 'a miss'} there)`);

// Timing: the run (a fresh VM each time, built and run) and the replay, alternately.
const runS: number[] = [];
const replayS: number[] = [];
const time = (f: () => void): number => {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
};
const runOnce = (): void => {
  new Vm(cfg).run();
};
const replayOnce = (): void => {
  replay(rec.ops, rec.n, freshTlbs(rec.geometry), null);
};
runOnce();
replayOnce();
for (let k = 0; k < rounds; k++) {
  runS.push(time(runOnce));
  replayS.push(time(replayOnce));
}

// The rest of the simulation: the same config with the guest's memory accesses not
// simulated (GuestCpu.touch, their one way in, a no-op). No TLB, no walk, no shadow fault
// of an access: the guest's timing changes, and with it how often it switches.
const touch = Object.getOwnPropertyDescriptor(GuestCpu.prototype, 'touch')!;
GuestCpu.prototype.touch = () => {};
const bare = new Vm(cfg);
bare.run();
const bareResult = bare.result();
const bareS: number[] = [];
for (let k = 0; k < rounds; k++) bareS.push(time(runOnce));
Object.defineProperty(GuestCpu.prototype, 'touch', touch);
const floor = floorRate(20_000_000, 3);

let fills = 0;
let flushes = 0;
let invlpg = 0;
for (let i = 0; i < rec.n; i++) {
  const x = rec.ops[i]!;
  if (x >= 0) continue;
  if (x === OP_FILL || x === OP_FILL_GLOBAL) fills++;
  else if (x === OP_FLUSH_NON_GLOBAL || x === OP_FLUSH_ALL || x === OP_FLUSH_PCID) flushes++;
  else if (x === OP_INVLPG) invlpg++;
  if (x !== OP_FLUSH_NON_GLOBAL && x !== OP_FLUSH_ALL) i++; // the operand
}
/** The vCPUs' TLBs recorded (the boot vCPU's, which sets up the i8259A at boot, may be another: machine/pc.ts). */
const own = vm.pc.vcpus.filter((v) => rec.tlbs.has(v.tlb)).length;
const fmt = (x: number): string => x.toLocaleString('en-US');
const run = median(runS);
const alone = median(replayS);
const target = (events / (0.15 * floor)) * 1e3;
console.log(
  `${fmt(rec.lookups)} lookups, ${fmt(fills)} fills, ${fmt(flushes)} flushes, ${fmt(invlpg)} invlpg on ${own === 1 ? "a vCPU's TLB" : `${own} vCPUs' TLBs`}${rec.tlbs.size > own ? " and the boot vCPU's" : ''} from the VM's build on; replayed on fresh TLBs, every lookup as in the run`,
);
console.log(
  `run (build and run) ${(run * 1e3).toFixed(1)} ms, ${fmt(events)} events; the TLB's operations replayed alone ${(alone * 1e3).toFixed(1)} ms (${((alone / run) * 100).toFixed(0)}% of the run, ${((alone / (rec.lookups + fills + flushes + invlpg)) * 1e9).toFixed(1)} ns an operation); medians of ${rounds}`,
);
console.log(
  `without the guest's memory accesses (touch a no-op) ${(median(bareS) * 1e3).toFixed(1)} ms: ${fmt(bareResult.guest.syscalls)} system calls and ${fmt(bareResult.guest.contextSwitches)} context switches measured, against ${fmt(result.guest.syscalls)} and ${fmt(result.guest.contextSwitches)} in the run`,
);
console.log(`floor loop ${(floor / 1e6).toFixed(1)} M events/s: 0.15 of it is ${((1e9 / (0.15 * floor)) | 0)} ns an event, ${target.toFixed(1)} ms for this run's events`);
