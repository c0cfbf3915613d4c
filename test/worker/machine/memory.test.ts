import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../../../worker/machine/memory.js';

/** Two directories whose entries 768..1023 are the same words, as pgd_alloc's kernel half. */
function twoDirectories(): GuestMemory {
  const mem = new GuestMemory(4096);
  for (const f of [10, 20]) {
    mem.holdPageTable(f);
    for (let i = 768; i < 1000; i++) mem.writeEntry(f, i, (i << 12) | 0x63);
    mem.writeEntry(f, 32, f << 12); // a user entry of its own
  }
  return mem;
}

describe('guest memory: page-table words', () => {
  it('frames that never held a page table read as zero at any frame number', () => {
    const mem = new GuestMemory(1 << 20);
    expect(mem.hasContents(900_000)).toBe(false);
    expect(mem.readEntry(900_000, 5)).toBe(0);
    expect(() => mem.writeEntry(900_000, 5, 1)).toThrow(/holds no page table/);
    mem.holdPageTable(900_000);
    mem.writeEntry(900_000, 5, 0xfeedf00d);
    expect(mem.readEntry(900_000, 5)).toBe(0xfeedf00d);
  });

  it('keeps every word as its storage grows past the room it was made with (16,384 blocks here), shared and copied parts too', () => {
    // 400 full tables: 25,600 blocks of 16 words, then a copy on write of a shared part past the growth.
    const mem = new GuestMemory(512);
    const word = (f: number, i: number) => ((f * 1024 + i) * 2654435761) >>> 0 || 1;
    for (let f = 0; f < 400; f++) {
      mem.holdPageTable(f);
      for (let i = 0; i < 1024; i++) mem.writeEntry(f, i, word(f, i));
    }
    expect(mem.heldBytes).toBe(400 * 64 * 64);
    mem.holdPageTable(450);
    for (let i = 0; i < 64; i++) mem.writeEntry(450, i, word(0, i));
    mem.share(450, 0, 0, 64);
    mem.writeEntry(450, 3, 7);
    for (let f = 0; f < 400; f++) for (let i = 0; i < 1024; i++) if (mem.readEntry(f, i) !== word(f, i)) expect.fail(`frame ${f} entry ${i}`);
    expect(mem.readEntry(450, 3)).toBe(7);
    expect(mem.readEntry(450, 4)).toBe(word(0, 4));
  });

  it('equal parts share one block: the same reads, 4 blocks fewer held', () => {
    const mem = twoDirectories();
    // Each directory: the 16-entry block of entry 32, and 768..999 in parts 12..15: 4 + 4 + 4 + 3 blocks (992..1007 the last): 16 blocks of 64 bytes.
    expect(mem.heldBytes).toBe(2 * 16 * 64);
    mem.share(20, 10, 768, 1024);
    expect(mem.heldBytes).toBe((16 + 1) * 64);
    for (let i = 768; i < 1000; i++) expect(mem.readEntry(20, i)).toBe(((i << 12) | 0x63) >>> 0);
    expect(mem.readEntry(20, 32)).toBe(20 << 12);
    expect(mem.readEntry(10, 32)).toBe(10 << 12);
  });

  it('a write to a shared part copies it: the other frame keeps its word; the same word keeps it shared', () => {
    const mem = twoDirectories();
    mem.share(20, 10, 768, 1024);
    mem.writeEntry(20, 800, (800 << 12) | 0x63); // unchanged word
    expect(mem.heldBytes).toBe(17 * 64);
    mem.writeEntry(20, 800, 0); // part 12 (768..831) copied: its 4 blocks
    expect(mem.heldBytes).toBe(21 * 64);
    expect(mem.readEntry(20, 800)).toBe(0);
    expect(mem.readEntry(10, 800)).toBe((800 << 12) | 0x63);
    expect(mem.readEntry(20, 801)).toBe((801 << 12) | 0x63);
  });

  it('clearing a frame lets go of shared parts without zeroing them for the other', () => {
    const mem = twoDirectories();
    mem.share(20, 10, 768, 1024);
    mem.zeroFrom(20, 900); // part 14 from entry 900 (copied; its blocks from 912 let go), part 15 (let go)
    expect(mem.readEntry(20, 899)).toBe((899 << 12) | 0x63);
    expect(mem.readEntry(20, 900)).toBe(0);
    expect(mem.readEntry(20, 990)).toBe(0);
    expect(mem.readEntry(10, 900)).toBe((900 << 12) | 0x63);
    expect(mem.readEntry(10, 990)).toBe((990 << 12) | 0x63);
    mem.zeroFrom(10, 0);
    expect(mem.readEntry(10, 800)).toBe(0);
    expect(mem.readEntry(20, 800)).toBe((800 << 12) | 0x63);
    // Left: frame 20's block of entry 32, parts 12 and 13 (shared no more: 4 blocks each) and the one block (896..911) of its copy of 14.
    expect(mem.heldBytes).toBe((1 + 4 + 4 + 1) * 64);
  });

  it("a process's sparse tables: one 64-byte block per 16 entries holding a word", () => {
    const mem = new GuestMemory(4096);
    mem.holdPageTable(7);
    mem.writeEntry(7, 0x48, 0x1000 | 0x25); // text
    mem.writeEntry(7, 0x4a, 0x2000 | 0x67); // data: the same 16 entries
    expect(mem.heldBytes).toBe(64);
    mem.writeEntry(7, 1023, 0x3000 | 0x67); // the stack, at the top
    expect(mem.heldBytes).toBe(2 * 64);
    mem.writeEntry(7, 0x48, 0);
    mem.writeEntry(7, 0x4a, 0);
    mem.releaseZeroParts(7);
    expect(mem.heldBytes).toBe(64);
    expect(mem.readEntry(7, 1023)).toBe(0x3067);
    expect(mem.readEntry(7, 0x4a)).toBe(0);
  });
});

describe('guest memory: a table written at once', () => {
  it('reads as the same words written one at a time, holds as many blocks, and a part already holding words takes them one by one', () => {
    const words = new Uint32Array(1024);
    for (let i = 0; i < 1024; i++) if (i % 97 < 40) words[i] = ((i * 2654435761) >>> 0) | 1;
    words[1023] = 0xfffff163; // a word above 2^31
    const bulk = new GuestMemory(4096);
    const single = new GuestMemory(4096);
    for (const m of [bulk, single]) m.holdPageTable(7);
    bulk.writeEntry(7, 130, 5); // part 2 holds a word before the table is written
    single.writeEntry(7, 130, 5);
    bulk.writeTable(7, words);
    for (let i = 0; i < 1024; i++) single.writeEntry(7, i, words[i]!);
    for (let i = 0; i < 1024; i++) expect(bulk.readEntry(7, i)).toBe(single.readEntry(7, i));
    expect(bulk.readEntry(7, 130)).toBe(words[130]);
    expect(bulk.heldBytes).toBe(single.heldBytes);
  });

  it('writes an x86-64 table of 512 words and refuses a length that is not whole parts', () => {
    const mem = new GuestMemory(64);
    mem.holdPageTable(3);
    const words = new Uint32Array(512).fill(0x63);
    mem.writeTable(3, words);
    expect(mem.readEntry(3, 511)).toBe(0x63);
    expect(mem.readEntry(3, 512)).toBe(0);
    expect(() => mem.writeTable(3, new Uint32Array(100))).toThrow(RangeError);
    expect(() => mem.writeTable(9, words)).toThrow(/holds no page table/);
  });
});

describe('guest memory: a kernel half copied and shared at once', () => {
  /** A directory `like` holding `words` at 768.., and the new directory 30, cleared. */
  function withSwapper(words: Uint32Array, extra: [number, number][] = []): GuestMemory {
    const mem = new GuestMemory(4096);
    mem.holdPageTable(10);
    for (let i = 0; i < words.length; i++) mem.writeEntry(10, 768 + i, words[i]!);
    for (const [i, w] of extra) mem.writeEntry(10, i, w);
    mem.holdPageTable(30);
    return mem;
  }

  it('reads as writeEntry of each word then share(), and holds the same blocks', () => {
    const words = new Uint32Array(224);
    for (let i = 0; i < words.length; i++) words[i] = ((i + 40) << 12) | 0x63;
    // 992..1023 of swapper_pg_dir not zero in one case (part 15 then differs from the copy).
    for (const extra of [[], [[1000, 0x1063]]] as [number, number][][]) {
      const bulk = withSwapper(words, extra);
      const single = withSwapper(words, extra);
      bulk.writeEntry(30, 5, 0x7063); // a user entry: part 0 holds a word
      single.writeEntry(30, 5, 0x7063);
      bulk.writeShared(30, 768, words, 10, 1024);
      for (let i = 0; i < words.length; i++) single.writeEntry(30, 768 + i, words[i]!);
      single.share(30, 10, 768, 1024);
      for (let i = 0; i < 1024; i++) expect(bulk.readEntry(30, i)).toBe(single.readEntry(30, i));
      expect(bulk.readEntry(30, 800)).toBe(words[32]);
      expect(bulk.heldBytes).toBe(single.heldBytes);
    }
    // Shared: the copy holds no blocks of its own beyond its user entry's.
    const mem = withSwapper(words);
    const before = mem.heldBytes;
    mem.writeShared(30, 768, words, 10, 1024);
    expect(mem.heldBytes).toBe(before);
    // A later write to the copy leaves swapper_pg_dir as it was.
    mem.writeEntry(30, 770, 0);
    expect(mem.readEntry(30, 770)).toBe(0);
    expect(mem.readEntry(10, 770)).toBe(words[2]);
  });

  it('a part that differs, a part already holding words and a source without contents take the words one by one', () => {
    const words = new Uint32Array(100).fill(0x5063);
    const mem = withSwapper(words);
    mem.writeEntry(10, 800, 0x9063); // part 12 of the source differs from the copy
    mem.writeEntry(30, 840, 0x1); // part 13 of the copy holds a word before
    mem.writeShared(30, 768, words, 10, 1024);
    for (let i = 768; i < 868; i++) expect(mem.readEntry(30, i)).toBe(0x5063);
    expect(mem.readEntry(30, 868)).toBe(0);
    mem.holdPageTable(31);
    mem.writeShared(31, 768, words, 99, 1024); // frame 99 never held a page table
    expect(mem.readEntry(31, 867)).toBe(0x5063);
    expect(() => mem.writeShared(98, 768, words, 10, 1024)).toThrow(/holds no page table/);
    expect(() => mem.writeShared(30, 1000, words, 10, 1024)).toThrow(RangeError);
  });
  it('reads as a plain map of words through 30,000 random writes, clears, shares and releases over 48 frames', () => {
    // Slot, directory and block 0 stand for "none" and read as zeros: a write that reached
    // one of them would show as a word in every table that has no part or block of its own.
    const frames = 48;
    const mem = new GuestMemory(4096);
    const ref = new Map<number, Uint32Array>();
    let seed = 7;
    const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    const frameNo = (k: number): number => 100 + k * 37;
    // A few words that repeat, so parts come out equal and get shared.
    const wordOf = (): number => [0, 0x1063, 0x2063, 0x3067, 0xfeedf000 | 0x67][rnd(5)]!;
    for (let step = 0; step < 30_000; step++) {
      const f = frameNo(rnd(frames));
      const op = rnd(100);
      if (!ref.has(f)) {
        mem.holdPageTable(f);
        ref.set(f, new Uint32Array(1024));
      }
      const words = ref.get(f)!;
      if (op < 70) {
        const i = rnd(1024);
        const w = wordOf();
        mem.writeEntry(f, i, w);
        words[i] = w;
      } else if (op < 78) {
        const from = rnd(1024);
        mem.zeroFrom(f, from);
        words.fill(0, from);
      } else if (op < 86) {
        mem.releaseZeroParts(f);
      } else if (op < 94) {
        const like = frameNo(rnd(frames));
        if (ref.has(like)) mem.share(f, like, rnd(512), 512 + rnd(513));
      } else {
        const t = new Uint32Array(64 * (1 + rnd(4)));
        for (let j = 0; j < t.length; j += 1 + rnd(40)) t[j] = wordOf();
        mem.writeTable(f, t);
        words.set(t);
      }
      if (step % 500 === 0) {
        for (let k = 0; k < frames; k++) {
          const g = frameNo(k);
          const want = ref.get(g);
          for (let i = 0; i < 1024; i++) if (mem.readEntry(g, i) !== (want?.[i] ?? 0)) expect([step, g, i, mem.readEntry(g, i)]).toEqual([step, g, i, want?.[i] ?? 0]);
        }
        // Frames between the tables never held one and read as zeros.
        expect(mem.readEntry(frameNo(0) + 1, rnd(1024))).toBe(0);
      }
    }
    expect(ref.size).toBe(frames);
  });
});

