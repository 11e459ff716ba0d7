import { describe, expect, it, vi } from 'vitest';
import * as log from '../src/log.js';
import { type Clock, type Progress, ProgressReporter } from '../src/optimize/progress.js';

/** A manual clock: time moves only through `advance`, which fires due timers in order. */
class FakeClock implements Clock {
  t = 1000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }
  get pending(): number {
    return this.timers.length;
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const due = this.timers[0];
      if (due === undefined || due.at > end) break;
      this.timers.shift();
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }
}

function setup(total: number, intervalMs = 300) {
  const clock = new FakeClock();
  const calls: { at: number; p: Progress }[] = [];
  const r = new ProgressReporter({ total, intervalMs, clock, onProgress: (p) => calls.push({ at: clock.now(), p }) });
  return { clock, calls, r };
}

describe('ProgressReporter', () => {
  it('emits at most once per interval, the latest state, and always one final call', () => {
    const { clock, calls, r } = setup(100);
    for (let i = 1; i <= 100; i++) {
      clock.advance(7);
      r.update({ completed: i });
    }
    r.finish();
    const gaps = calls.slice(0, -1).map((c, i, a) => (i === 0 ? Number.POSITIVE_INFINITY : c.at - (a[i - 1]?.at ?? 0)));
    expect(gaps.every((g) => g >= 300)).toBe(true);
    // 700 ms of updates: the first at once, then one per 300 ms.
    expect(calls.map((c) => c.p.completed)).toEqual([1, 43, 86, 100]);
    const final = calls.at(-1)?.p as Progress;
    expect(final).toMatchObject({ completed: 100, failed: 0, timedOut: 0, cancelled: 0, total: 100, etaMs: 0 });
    expect(final.elapsedMs).toBe(700);
  });

  it('delivers a throttled state later through a timer', () => {
    const { clock, calls, r } = setup(10);
    r.update({ completed: 1 });
    clock.advance(50);
    r.update({ completed: 2 });
    r.update({ completed: 3, failed: 1 });
    expect(calls).toHaveLength(1);
    clock.advance(249);
    expect(calls).toHaveLength(1);
    clock.advance(1);
    expect(calls.map((c) => [c.at, c.p.completed, c.p.failed])).toEqual([
      [1000, 1, 0],
      [1300, 3, 1],
    ]);
    // Nothing new: the timer does not fire again.
    clock.advance(1000);
    expect(calls).toHaveLength(2);
  });

  it('delivers the final call exactly once even right after a throttled update, and never after finish', () => {
    const { clock, calls, r } = setup(5);
    r.update({ completed: 1 });
    clock.advance(10);
    r.update({ completed: 4 });
    const final = r.finish({ failed: 1 });
    expect(calls.map((c) => c.p.completed)).toEqual([1, 4]);
    expect(calls[1]?.p).toBe(final);
    expect(clock.pending).toBe(0);
    r.update({ completed: 5 });
    expect(r.finish()).toBe(final);
    clock.advance(10_000);
    expect(calls).toHaveLength(2);
    expect(r.done).toBe(true);
  });

  it('settles every job in the final state: unaccounted jobs count as cancelled', () => {
    const { calls, r } = setup(10);
    r.update({ completed: 3, failed: 2, timedOut: 1 });
    r.finish();
    expect(calls.at(-1)?.p).toMatchObject({ completed: 3, failed: 2, timedOut: 1, cancelled: 4, total: 10 });
  });

  it('computes elapsed and ETA from the settle rate (NaN before the first settled job)', () => {
    const { clock, calls, r } = setup(10, 0);
    clock.advance(100);
    r.update({});
    clock.advance(100);
    r.update({ completed: 2 });
    clock.advance(200);
    r.update({ completed: 3, failed: 1, cancelled: 2 });
    expect(calls.map((c) => [c.p.elapsedMs, c.p.etaMs])).toEqual([
      [100, Number.NaN],
      [200, 800], // 100 ms per job, 8 left
      [400, 400], // 4 ran in 400 ms, 2 cancelled (never run), 4 left
    ]);
  });

  it('carries the best so far and freezes what it emits', () => {
    const { calls, r } = setup(2, 0);
    r.update({ completed: 1, best: { index: 0, params: { a: 1 }, score: 1.5 } });
    r.update({ completed: 2 });
    // Every job settled: that state is the final one, delivered by finish() and only once.
    expect(calls).toHaveLength(1);
    r.finish();
    const p = calls[1]?.p as Progress;
    expect(p.best).toEqual({ index: 0, params: { a: 1 }, score: 1.5 });
    expect(Object.isFrozen(p)).toBe(true);
    expect(() => {
      (p as { completed: number }).completed = 9;
    }).toThrow(TypeError);
  });

  it('gives the async iterator and the events the same sequence as the callback', async () => {
    const { clock, calls, r } = setup(20);
    const events: Progress[] = [];
    const done: Progress[] = [];
    r.on('progress', (p) => events.push(p));
    r.on('done', (p) => done.push(p));
    const iterated = (async () => {
      const seen: Progress[] = [];
      for await (const p of r) seen.push(p);
      return seen;
    })();
    for (let i = 1; i <= 20; i++) {
      clock.advance(45);
      r.update({ completed: i });
      // Let the iterator consume between emissions, as a real consumer interleaves.
      if (i % 5 === 0) await Promise.resolve();
    }
    r.finish();
    const seen = await iterated;
    expect(calls.length).toBeGreaterThan(2);
    expect(seen).toEqual(calls.map((c) => c.p));
    expect(events).toEqual(calls.map((c) => c.p));
    expect(done).toEqual([calls.at(-1)?.p]);
    // An iterator opened after the end yields the final state once.
    const late: Progress[] = [];
    for await (const p of r) late.push(p);
    expect(late).toEqual([calls.at(-1)?.p]);
  });

  it('lets an iterator stop early without affecting the others', async () => {
    const { calls, r } = setup(3, 0);
    const first = (async () => {
      for await (const p of r) return p.completed;
      return -1;
    })();
    r.update({ completed: 1 });
    expect(await first).toBe(1);
    r.update({ completed: 2 });
    r.finish();
    expect(calls.map((c) => c.p.completed)).toEqual([1, 2, 2]);
  });

  it('survives a throwing callback or listener, logging once', () => {
    const warn = vi.fn();
    const spy = vi.spyOn(log, 'logger').mockReturnValue({ warn } as unknown as ReturnType<typeof log.logger>);
    try {
      const clock = new FakeClock();
      let n = 0;
      const r = new ProgressReporter({
        total: 3,
        intervalMs: 0,
        clock,
        onProgress: () => {
          n++;
          throw new Error('callback broke');
        },
      });
      const seen: number[] = [];
      r.on('progress', () => {
        throw new Error('listener broke');
      });
      r.on('progress', (p) => seen.push(p.completed));
      r.update({ completed: 1 });
      r.update({ completed: 2 });
      r.finish({ completed: 3 });
      expect(n).toBe(3);
      expect(seen).toEqual([1, 2, 3]);
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  it('catches a rejected promise from an async callback', async () => {
    const warn = vi.fn();
    const spy = vi.spyOn(log, 'logger').mockReturnValue({ warn } as unknown as ReturnType<typeof log.logger>);
    try {
      const r = new ProgressReporter({
        total: 1,
        clock: new FakeClock(),
        onProgress: async () => Promise.reject(new Error('x')),
      });
      r.finish({ completed: 1 });
      await new Promise((resolve) => setImmediate(resolve));
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });

  it('rejects impossible counts and settings', () => {
    const { r } = setup(3);
    expect(() => r.update({ completed: 2, failed: 2 })).toThrow(RangeError);
    expect(() => r.update({ completed: -1 })).toThrow(RangeError);
    expect(() => new ProgressReporter({ total: 1.5 })).toThrow(RangeError);
    expect(() => new ProgressReporter({ total: 1, intervalMs: -1 })).toThrow(RangeError);
  });

  it('uses the real clock by default and emits once for an empty batch', () => {
    const calls: Progress[] = [];
    const r = new ProgressReporter({ total: 0, onProgress: (p) => calls.push(p) });
    r.finish();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ completed: 0, total: 0, etaMs: 0 });
  });
});
