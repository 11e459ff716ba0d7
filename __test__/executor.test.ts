import { describe, expect, it } from 'vitest';
import { ValidationError } from '../src/errors.js';
import { canonicalJson, runTasks, type Task, TaskBatchError, valueHash } from '../src/executor.js';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    });
  });

/** Tasks that return `values[i]` after `delays[i]` ms, tracking how many run at once. */
function tracked<R>(values: R[], delays: number[]) {
  const stats = { inFlight: 0, maxInFlight: 0, started: [] as number[] };
  const tasks: Task<unknown, R>[] = values.map((v, i) => async () => {
    stats.started.push(i);
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    try {
      await sleep(delays[i] ?? 0);
      return v;
    } finally {
      stats.inFlight--;
    }
  });
  return { tasks, stats };
}

describe('runTasks', () => {
  it('never exceeds the concurrency and starts tasks in input order', async () => {
    for (const concurrency of [1, 3, 8]) {
      const delays = Array.from({ length: 24 }, (_, i) => (i * 7) % 11);
      const { tasks, stats } = tracked(
        delays.map((_, i) => i * 10),
        delays,
      );
      const values = await runTasks(tasks, { concurrency, merge: 'all-success' });
      expect(values).toEqual(delays.map((_, i) => i * 10));
      expect(stats.maxInFlight).toBe(concurrency);
      expect(stats.started).toEqual(delays.map((_, i) => i));
    }
  });

  it('records every task in input order with status, value, error and timing', async () => {
    const before = Date.now();
    const records = await runTasks<undefined, number>(
      [
        async () => {
          await sleep(30);
          return 1;
        },
        () => 2,
        () => {
          throw new RangeError('bad');
        },
        async () => Promise.reject('plain string'),
      ],
      { concurrency: 4 },
    );
    expect(records.map((r) => [r.index, r.status, r.value])).toEqual([
      [0, 'fulfilled', 1],
      [1, 'fulfilled', 2],
      [2, 'rejected', undefined],
      [3, 'rejected', undefined],
    ]);
    expect(records[2]?.error).toMatchObject({ type: 'RangeError', message: 'bad' });
    expect(records[2]?.error?.stack).toContain('RangeError: bad');
    expect(records[3]?.error).toEqual({ type: 'Error', message: 'plain string', stack: '' });
    expect(records[0]?.elapsedMs).toBeGreaterThanOrEqual(25);
    for (const r of records) {
      expect(r.startedAt).toBeGreaterThanOrEqual(before);
      expect(r.elapsedMs).toBeGreaterThanOrEqual(0);
    }
    // Records are plain data.
    expect(structuredClone(records)).toEqual(records);
  });

  it('gives each task its own deep copy of the context', async () => {
    const context = { counts: [0], nested: { seen: [] as number[] } };
    const seen: number[][] = [];
    const tasks = Array.from({ length: 6 }, (_, i) => async (ctx: typeof context) => {
      ctx.counts[0] = (ctx.counts[0] ?? 0) + 1;
      ctx.nested.seen.push(i);
      await sleep(1);
      seen.push([...ctx.nested.seen]);
      return ctx.counts[0];
    });
    const values = await runTasks(tasks, { concurrency: 3, context, merge: 'all-success' });
    expect(values).toEqual([1, 1, 1, 1, 1, 1]);
    expect(seen.map((s) => s.length)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(context).toEqual({ counts: [0], nested: { seen: [] } });
  });

  it('rejects a context that cannot be cloned before running anything', async () => {
    let ran = false;
    await expect(
      runTasks(
        [
          () => {
            ran = true;
          },
        ],
        { concurrency: 1, context: { f: () => 1 } },
      ),
    ).rejects.toThrow(/could not be cloned/);
    expect(ran).toBe(false);
  });

  it('all-success throws a TaskBatchError naming the failed tasks', async () => {
    const err = await runTasks<undefined, number>(
      [
        () => 1,
        () => {
          throw new Error('one');
        },
        () => 3,
        async () => {
          throw new TypeError('three');
        },
      ],
      { concurrency: 2, merge: 'all-success' },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskBatchError);
    expect(err).toBeInstanceOf(AggregateError);
    const e = err as TaskBatchError<number>;
    expect(e.indices).toEqual([1, 3]);
    expect(e.message).toBe('2 of 4 tasks did not succeed: #1 rejected (Error: one); #3 rejected (TypeError: three)');
    expect(e.errors.map((x: Error) => x.name)).toEqual(['Error', 'TypeError']);
    expect(e.records.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
  });

  it('first-success returns the first value to fulfil and starts nothing more', async () => {
    const { tasks, stats } = tracked(['slow', 'fast', 'c', 'd', 'e'], [60, 5, 30, 30, 30]);
    const failing: Task<unknown, string> = () => {
      throw new Error('no');
    };
    const value = await runTasks([failing, ...tasks], { concurrency: 3, merge: 'first-success' });
    expect(value).toBe('fast');
    // The failing task freed its slot at once, so slow, fast and c ran; nothing after them started.
    expect(stats.started).toEqual([0, 1, 2]);
    await sleep(80);
    expect(stats.started).toEqual([0, 1, 2]);
  });

  it('first-success throws when nothing succeeds', async () => {
    const bad: Task<unknown, number> = () => {
      throw new Error('x');
    };
    await expect(runTasks([bad, bad], { concurrency: 2, merge: 'first-success' })).rejects.toThrow(
      'none of the 2 tasks succeeded: #0 rejected (Error: x); #1 rejected (Error: x)',
    );
  });

  it('majority returns the value more than half returned, comparing by canonical JSON', async () => {
    const vote =
      (v: unknown): Task<unknown, unknown> =>
      () =>
        v;
    const fail: Task<unknown, unknown> = () => {
      throw new Error('down');
    };
    expect(
      await runTasks([vote({ a: 1, b: [1, 2] }), vote({ b: [1, 2], a: 1 }), vote({ a: 2 })], {
        concurrency: 2,
        merge: 'majority',
      }),
    ).toEqual({ a: 1, b: [1, 2] });
    expect(await runTasks([vote(5), fail, vote(5), vote(5), vote(4)], { concurrency: 5, merge: 'majority' })).toBe(5);
    // Two of four is not more than half; failures count in the total.
    const err = await runTasks([vote(1), vote(1), vote(2), fail], { concurrency: 4, merge: 'majority' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TaskBatchError);
    expect((err as TaskBatchError).message).toBe(
      'no value was returned by more than half of the 4 tasks (largest agreeing group: 2, tasks [0, 1])',
    );
    expect((err as TaskBatchError).indices).toEqual([0, 1]);
  });

  it('canonical JSON ignores key order but keeps values JSON would merge apart', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}',
    );
    expect(valueHash({ a: 1, b: 2 })).toBe(valueHash({ b: 2, a: 1 }));
    expect(valueHash(Number.NaN)).not.toBe(valueHash(null));
    expect(valueHash(undefined)).not.toBe(valueHash(null));
    expect(valueHash(1n)).not.toBe(valueHash(1));
    expect(valueHash(new Float64Array([1, 2]))).not.toBe(valueHash([1, 2]));
    expect(
      valueHash(
        new Map([
          ['b', 1],
          ['a', 2],
        ]),
      ),
    ).toBe(
      valueHash(
        new Map([
          ['a', 2],
          ['b', 1],
        ]),
      ),
    );
    expect(valueHash(new Set([2, 1]))).toBe(valueHash(new Set([1, 2])));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cyclic/);
  });

  it('times out a task, signals it, frees its slot and keeps going', async () => {
    let aborted: unknown;
    const tasks: Task<unknown, string>[] = [
      async (_ctx, { signal }) => {
        try {
          await sleep(5_000, signal);
        } catch (e) {
          aborted = e;
        }
        return 'late';
      },
      async () => {
        await sleep(5);
        return 'b';
      },
      async () => 'c',
    ];
    const t0 = performance.now();
    const records = await runTasks(tasks, { concurrency: 1, timeoutMs: 40 });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(records.map((r) => r.status)).toEqual(['timed_out', 'fulfilled', 'fulfilled']);
    expect(records[0]?.error?.type).toBe('TimeoutError');
    expect(records[0]?.value).toBeUndefined();
    expect(records[0]?.elapsedMs).toBeGreaterThanOrEqual(35);
    expect((aborted as Error).name).toBe('TimeoutError');
  });

  it('abort stops starting tasks, cancels running ones and keeps finished results', async () => {
    const controller = new AbortController();
    const { tasks, stats } = tracked([0, 1, 2, 3, 4, 5], [5, 5, 200, 200, 5, 5]);
    setTimeout(() => controller.abort(), 50);
    const records = await runTasks(tasks, { concurrency: 2, signal: controller.signal });
    expect(records.map((r) => r.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'cancelled',
      'cancelled',
      'cancelled',
      'cancelled',
    ]);
    expect(records[2]?.error?.type).toBe('CancelledError');
    expect(records[4]).toEqual({ index: 4, status: 'cancelled', startedAt: null, elapsedMs: 0 });
    expect(stats.started).toEqual([0, 1, 2, 3]);
  });

  it('an already aborted signal runs nothing', async () => {
    let ran = 0;
    const records = await runTasks([() => ran++, () => ran++], { concurrency: 1, signal: AbortSignal.abort() });
    expect(ran).toBe(0);
    expect(records.map((r) => r.status)).toEqual(['cancelled', 'cancelled']);
    await expect(
      runTasks([() => 1], { concurrency: 1, signal: AbortSignal.abort(), merge: 'all-success' }),
    ).rejects.toThrow('1 of 1 tasks did not succeed: #0 cancelled');
  });

  it('handles an empty list and validates its options', async () => {
    expect(await runTasks([], { concurrency: 2 })).toEqual([]);
    expect(await runTasks([], { concurrency: 2, merge: 'all-success' })).toEqual([]);
    const err = await runTasks([1 as never], { concurrency: 0, merge: 'best' as never, timeoutMs: -1 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'tasks[0]: expected a function, got number',
      'concurrency: expected an integer >= 1, got 0',
      'merge: expected all-success, first-success, majority or all-settled, got best',
      'timeoutMs: expected a positive number of milliseconds, got -1',
    ]);
  });
});
