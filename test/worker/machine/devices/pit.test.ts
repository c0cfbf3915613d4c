import { describe, expect, it } from 'vitest';
import { Pit } from '../../../../worker/machine/devices/pit.js';
import { IoBus } from '../../../../worker/machine/io-bus.js';
import { Vcpu } from '../../../../worker/machine/vcpu.js';

/** A PIT on a bare vCPU, its edges recorded as the vCPU's clock when each was taken. */
function pit(period: number, grid: number) {
  const v = new Vcpu(0, 64, 4, 0);
  const seen: number[] = [];
  const p = new Pit(new IoBus(), v, { raiseIsaIrq: (_irq, w) => seen.push(w.clock) });
  p.grid = grid;
  p.program(period);
  p.start(0);
  const run = (n: number) => {
    while (seen.length < n) {
      v.clock = v.events.next();
      v.events.fireDue(v, false);
    }
    return seen;
  };
  return { run };
}

describe('the PIT under QEMU: edges seen on the host alarm’s grid', () => {
  it('on hardware, every period', () => {
    expect(pit(1000, 0).run(4)).toEqual([1000, 2000, 3000, 4000]);
  });

  it('under QEMU, at the first alarm at or after each edge, the edges keeping their own schedule', () => {
    // Alarms every 977 cycles: edge 1000 -> 1954, 2000 -> 2931, 3000 -> 3908, 4000 -> 4885, 5000 -> 5862.
    expect(pit(1000, 977).run(5)).toEqual([1954, 2931, 3908, 4885, 5862]);
  });

  it('an edge the handler outlasted is lost (QEMU too re-arms the channel from the current count)', () => {
    const v = new Vcpu(0, 64, 4, 0);
    const p = new Pit(new IoBus(), v, {
      raiseIsaIrq: (_irq, w) => {
        if (w.clock === 1000) w.clock = 3500; // the first tick's handler runs until 3500
      },
    });
    p.program(1000);
    p.start(0);
    v.clock = v.events.next();
    v.events.fireDue(v, false);
    expect(v.events.next()).toBe(4000);
  });
});
