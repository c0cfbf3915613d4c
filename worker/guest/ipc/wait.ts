/**
 * A wait queue (wait_queue_head_t, kernel/wait.c): the tasks asleep on one event.
 * Sleepers are added at the head, so a wake-up goes through them most recent first.
 * A queue may belong to an owner that keeps count of which vCPUs have sleepers (a
 * channel's queues, with several vCPUs; see channel.ts).
 */

/** Told when a queue gains its first sleeper or loses its last. */
export interface SleeperMask {
  noteSleepers(cpu: number, reads: boolean, any: boolean): void;
}

export class WaitQueue<T> {
  /** Sleepers are slots 0..count-1 (the array keeps its capacity across wake-ups). */
  private readonly list: T[] = [];
  count = 0;

  constructor(
    private readonly owner: SleeperMask | null = null,
    private readonly cpu = 0,
    private readonly reads = true,
  ) {}

  add(t: T): void {
    if (this.count === 0 && this.owner !== null) this.owner.noteSleepers(this.cpu, this.reads, true);
    this.list[this.count++] = t;
  }

  at(i: number): T {
    return this.list[i]!;
  }

  clear(): void {
    if (this.count > 0 && this.owner !== null) this.owner.noteSleepers(this.cpu, this.reads, false);
    this.count = 0;
  }

  remove(t: T): void {
    const list = this.list;
    for (let i = 0; i < this.count; i++) {
      if (list[i] !== t) continue;
      for (let j = i + 1; j < this.count; j++) list[j - 1] = list[j]!;
      if (--this.count === 0 && this.owner !== null) this.owner.noteSleepers(this.cpu, this.reads, false);
      return;
    }
  }
}
