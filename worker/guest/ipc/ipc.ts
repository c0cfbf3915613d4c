/**
 * The guest's pipes and unix stream sockets: creating them, and the system calls on
 * them (sys_read / sys_write through the file's operations, and poll), from which
 * blocking, and so context switches, emerge.
 *
 * With several vCPUs, within a quantum each vCPU works on its view of a channel; its
 * operations are records (M_PIPE_WRITE, M_PIPE_READ, M_UNIX_SEND, M_UNIX_RECV) replayed
 * onto the merged channel at the quantum's end, in delivery order. A sleeper whose
 * channel another vCPU read or wrote is woken then, by a reschedule IPI.
 */
import type { Costs } from '../../../shared/costs.js';
import type { RecordBus } from '../../smp/bus.js';
import { M_PIPE_READ, readPipeRead, type PipeRead } from '../../smp/records/pipe-read.js';
import { M_PIPE_WRITE, readPipeWrite, type PipeWrite } from '../../smp/records/pipe-write.js';
import { M_UNIX_RECV, readUnixRecv, type UnixRecv } from '../../smp/records/unix-recv.js';
import { M_UNIX_SEND, readUnixSend, type UnixSend } from '../../smp/records/unix-send.js';
import type { GuestCpu } from '../cpu.js';
import type { SyscallEntry } from '../entry.js';
import { KTEXT, UNIX_SKB_TRUESIZE } from '../layout.js';
import type { MemoryManager } from '../mm/mm.js';
import type { Scheduler } from '../sched/core.js';
import type { Task } from '../task.js';
import { lowestCpu } from '../../smp/cpumask.js';
import { CH_PIPE } from './channel.js';
import { Pipe, PIPE_BUFFERS, PipeOps } from './pipe.js';
import type { SkbSlab } from './skb.js';
import { UnixStream, UnixStreamOps } from './unix.js';

export type Channel = Pipe | UnixStream;

/**
 * Cache lines of a channel a call reads that the last vCPU to use it wrote: its lock (the
 * pipe's mutex, the socket's lock), its queue (the pipe buffer ring, the skb queue head)
 * and its wait queue.
 */
const CHANNEL_LINES = 3;

export class Ipc {
  /** Every pipe and socket, by id. */
  readonly channels: Channel[] = [];
  private readonly pipes: PipeOps;
  private readonly unix: UnixStreamOps;
  private bus: RecordBus | null = null;
  /** Channels an operation was merged into in this merge. */
  private readonly merged: Channel[] = [];
  private readonly pw: PipeWrite = { ch: 0, len: 0 };
  private readonly pr: PipeRead = { ch: 0, len: 0 };
  private readonly us: UnixSend = { ch: 0, len: 0, slot: 0, head: 0, data: 0 };
  private readonly ur: UnixRecv = { ch: 0, len: 0, slot: 0 };

  constructor(
    private readonly cpus: readonly GuestCpu[],
    private readonly mm: MemoryManager,
    private readonly sched: Scheduler,
    private readonly entry: SyscallEntry,
    private readonly c: Costs,
    readonly slab: SkbSlab,
    /** sk_sndbuf of a unix socket (bytes). */
    private readonly sndbuf: number,
  ) {
    this.pipes = new PipeOps(c, sched);
    this.unix = new UnixStreamOps(c, sched, slab);
  }

  /** pipe(): a pipe_inode_info and its 16 buffer pages (`syncWake`: see Pipe.syncWake). */
  newPipe(name: string, syncWake = false): Pipe {
    const p = new Pipe(name, this.cpus.length, undefined, syncWake);
    p.objVpn = this.mm.kernelPage();
    for (let i = 0; i < PIPE_BUFFERS; i++) p.bufVpn[i] = this.mm.kernelPage();
    return this.add(p);
  }

  /** A socketpair(AF_UNIX, SOCK_STREAM): one direction of it, writer to reader. */
  newUnixStream(name: string): UnixStream {
    const s = new UnixStream(name, { sndbuf: this.sndbuf, truesize: UNIX_SKB_TRUESIZE }, this.cpus.length);
    s.objVpn = this.mm.kernelPage();
    s.peerVpn = this.mm.kernelPage();
    return this.add(s);
  }

  private add<C extends Channel>(ch: C): C {
    ch.id = this.channels.length;
    this.channels.push(ch);
    return ch;
  }

  // --- system calls: true when the call completed, false when the task went to sleep --

  write(cpu: GuestCpu, t: Task, chan: Channel, len: number): boolean {
    this.entry.enter(cpu, t);
    const ch = this.view(cpu, chan);
    this.pullLines(cpu, chan, ch);
    return ch.kind === CH_PIPE ? this.pipes.write(cpu, t, ch, len) : this.unix.send(cpu, t, ch, len);
  }

  read(cpu: GuestCpu, t: Task, chan: Channel, len: number): boolean {
    this.entry.enter(cpu, t);
    const ch = this.view(cpu, chan);
    this.pullLines(cpu, chan, ch);
    return ch.kind === CH_PIPE ? this.pipes.read(cpu, t, ch, len) : this.unix.recv(cpu, t, ch, len);
  }

  /** poll() for input without reading it (pipe_poll). */
  poll(cpu: GuestCpu, t: Task, chan: Channel): boolean {
    this.entry.enter(cpu, t);
    const ch = this.view(cpu, chan);
    cpu.work(this.c.pipeRead);
    cpu.touch(KTEXT.pipeB);
    cpu.touch(ch.objVpn);
    if (ch.bytes > 0) return true;
    this.sched.sleepOn(t, ch.readWaitAt(cpu.id)); // poll_wait: a plain interruptible sleep
    return false;
  }

  // --- several vCPUs ------------------------------------------------------------------

  /** Several vCPUs: channel operations become records, merged at each quantum's end. */
  attachSmp(bus: RecordBus): void {
    this.bus = bus;
    bus.onDropVcpu((cpu) => this.slab.dropCpu(cpu));
    this.pipes.bus = bus;
    this.unix.bus = bus;
    bus.on(M_PIPE_WRITE, (d, at, src) => {
      const r = readPipeWrite(d, at, this.pw);
      const p = this.pipe(r.ch);
      p.pipeWrite(r.len, true);
      this.noteOp(p, src, true);
    });
    bus.on(M_PIPE_READ, (d, at, src) => {
      const r = readPipeRead(d, at, this.pr);
      const p = this.pipe(r.ch);
      p.pipeRead(r.len);
      this.noteOp(p, src, false);
    });
    bus.on(M_UNIX_SEND, (d, at, src) => {
      const r = readUnixSend(d, at, this.us);
      const s = this.socket(r.ch);
      this.slab.notePages(r.slot, r.head, r.data);
      s.queueSkb(r.slot, r.len);
      this.noteOp(s, src, true);
    });
    bus.on(M_UNIX_RECV, (d, at, src) => {
      const r = readUnixRecv(d, at, this.ur);
      const s = this.socket(r.ch);
      if (s.removeSkb(r.slot, r.len)) {
        const owner = this.slab.ownerOf(r.slot);
        if (owner !== src && bus.isLocal(owner)) this.slab.free(r.slot);
      }
      this.noteOp(s, src, false);
    });
    bus.afterDeliver(() => this.wakeSleepers());
  }

  private pipe(id: number): Pipe {
    const ch = this.channels[id]!;
    if (ch.kind !== CH_PIPE) throw new Error(`channel ${id} is not a pipe`);
    return ch;
  }

  private socket(id: number): UnixStream {
    const ch = this.channels[id]!;
    if (ch.kind === CH_PIPE) throw new Error(`channel ${id} is not a socket`);
    return ch;
  }

  /**
   * With several vCPUs: the first call of a quantum on a channel another vCPU used last
   * pulls its lines over (CHANNEL_LINES transfers). Who used it last is what every replica
   * knows, the last operation merged at the quantum's end.
   */
  private pullLines(cpu: GuestCpu, chan: Channel, view: Channel): void {
    const bus = this.bus;
    if (bus === null || chan.lastCpu < 0 || chan.lastCpu === cpu.id || view.linesPaidEpoch === bus.epoch) return;
    view.linesPaidEpoch = bus.epoch;
    cpu.vcpu.clock += CHANNEL_LINES * this.c.cacheLineTransfer;
  }

  /** The channel as `cpu` sees it: the channel itself with one vCPU, else cpu's view of it for this quantum. */
  private view(cpu: GuestCpu, ch: Channel): Channel {
    const bus = this.bus;
    return bus === null ? ch : ch.viewFor(cpu.id, bus.epoch);
  }

  /** Note a merged channel operation: who sent, who received, in this quantum. */
  private noteOp(ch: Channel, src: number, send: boolean): void {
    const epoch = this.bus!.epoch;
    ch.lastCpu = src;
    if (ch.opEpoch !== epoch) {
      ch.opEpoch = epoch;
      ch.sendSrc = ch.recvSrc = -1;
      ch.sendMulti = ch.recvMulti = false;
      this.merged.push(ch);
    }
    if (send) {
      if (ch.sendSrc < 0) ch.sendSrc = src;
      else if (ch.sendSrc !== src) ch.sendMulti = true;
    } else if (ch.recvSrc < 0) ch.recvSrc = src;
    else if (ch.recvSrc !== src) ch.recvMulti = true;
  }

  /**
   * The wake-ups another vCPU's operations would have made: readers of a channel another
   * vCPU wrote, writers of a socket another vCPU drained to unix_writable(), and every
   * sleeper of a pipe another vCPU used (pipe->wait is one queue).
   */
  private wakeSleepers(): void {
    const bus = this.bus!;
    const local = bus.localCpus;
    for (const ch of this.merged) {
      const pipe = ch.kind === CH_PIPE;
      // Readers (every sleeper of a pipe) on local vCPUs, then writers of a socket.
      for (let pass = 0; pass < 2; pass++) {
        if (pass === 1 && (ch.kind === CH_PIPE || !ch.writable)) break;
        const reads = pass === 0;
        const src = reads && !pipe ? ch.sendSrc : pass === 1 ? ch.recvSrc : -1;
        const asleep = reads ? ch.readers : ch.writers;
        for (let w = 0; w < asleep.length; w++) {
          let m = asleep[w]! & local[w]!;
          while (m !== 0) {
            const id = lowestCpu(w, m);
            m &= m - 1;
            let other: boolean;
            if (pipe) {
              other = (ch.sendSrc >= 0 && (ch.sendMulti || ch.sendSrc !== id)) || (ch.recvSrc >= 0 && (ch.recvMulti || ch.recvSrc !== id));
            } else {
              const multi = reads ? ch.sendMulti : ch.recvMulti;
              other = src >= 0 && (multi || src !== id);
            }
            if (!other) continue;
            this.sched.wakeUpAll(this.cpus[id]!, reads ? ch.readWaitAt(id) : ch.writeWaitAt(id), false, true);
          }
        }
      }
    }
    this.merged.length = 0;
  }
}

