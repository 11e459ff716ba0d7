/**
 * The pure-TypeScript engine on worker threads: the same outputs as one file at a time, in file
 * order; a file past its timeout is reported and the rest finish; an abort keeps what finished.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../src/dsl/index.js';
import { generateDaily, runSymphonies, type SymphonyIR } from '../src/index.js';
import { threadFaults } from '../src/symphony/threads.js';

const TICKERS = ['BIL', 'GLD', 'QQQ', 'SPY', 'TLT', 'XLE', 'XLK', 'XLU'];

function ir(source: string): SymphonyIR {
  const r = compile(source, { file: 'threads.clj' });
  if (r.kind !== 'symphony') throw new Error('not a symphony');
  return r.ir;
}

const FILES: SymphonyIR[] = [
  ir(
    `(defsymphony "trend" {} (if (> (current-price "SPY") (moving-average-price "SPY" 50)) [(asset "QQQ")] [(asset "BIL")]))`,
  ),
  ir(`(defsymphony "momentum" {:rebalance-frequency :weekly}
        (filter (cumulative-return 20) (select-top 2) [(asset "XLE") (asset "XLK") (asset "XLU") (asset "GLD")]))`),
  ir(`(defsymphony "parity" {} (weight-inverse-volatility 20 [(asset "SPY") (asset "TLT") (asset "GLD")]))`),
  ir(`(defsymphony "groups" {}
        (filter (stdev-return 10) (select-bottom 1)
          [(group "a" [(weight-equal [(asset "SPY") (asset "QQQ")])])
           (group "b" [(weight-specified 60 (asset "TLT") 40 (asset "GLD"))])]))`),
  ir(`(defsymphony "guard" {:rebalance-frequency :monthly}
        (if (> (max-drawdown "SPY" 30) 8) [(asset "BIL")] [(asset "SPY")]))`),
];

describe('pure-TS symphonies on worker threads', () => {
  it('give bitwise the outputs of one file at a time, in file order', async () => {
    const data = generateDaily(TICKERS, { days: 600, seed: 9 });
    const files = [...FILES, ...FILES];
    const one = await runSymphonies(files, data, { engine: 'js', parallelism: 'none' });
    const two = await runSymphonies(files, data, { engine: 'js', parallelism: 'threads', maxWorkers: 2 });
    expect(two.files.map((f) => f.label)).toEqual(one.files.map((f) => f.label));
    two.files.forEach((f, i) => {
      const a = one.files[i]?.output;
      const b = f.output;
      expect(f.status).toBe('ok');
      expect(b?.weights).toEqual(a?.weights);
      expect(b?.equity).toEqual(a?.equity);
      expect(b?.rebalanceDays).toEqual(a?.rebalanceDays);
      expect(b?.metrics).toEqual(a?.metrics);
    });
    expect(two.signals('2021-06-01')).toEqual(one.signals('2021-06-01'));
  });

  it('report a file past its timeout and finish the others', async () => {
    const small = generateDaily(TICKERS, { days: 60, seed: 9 });
    const quick = await runSymphonies([FILES[0] as SymphonyIR, FILES[2] as SymphonyIR], small, {
      engine: 'js',
      maxWorkers: 2,
      timeoutMs: 10_000,
    });
    expect(quick.files.map((f) => f.status)).toEqual(['ok', 'ok']);
    // The first file hangs on its thread until that thread is terminated, so it is past its timeout
    // whatever the machine's load; the light files take well under a millisecond on this calendar.
    const hung = { ...(FILES[4] as SymphonyIR), name: 'hangs' };
    threadFaults.hang = (x) => x.name === 'hangs';
    let book: Awaited<ReturnType<typeof runSymphonies>>;
    try {
      book = await runSymphonies([hung, FILES[0] as SymphonyIR, FILES[2] as SymphonyIR], small, {
        engine: 'js',
        maxWorkers: 2,
        timeoutMs: 150,
      });
    } finally {
      threadFaults.hang = null;
    }
    expect(book.files[0]?.status).toBe('failed');
    expect(book.files[0]?.error?.code).toBe('ERR_TICKFORGE_TIMEOUT');
    expect(book.files[0]?.error?.message).toContain('file passed 150 ms');
    // The terminated thread is replaced; the light files finish.
    expect(book.files.slice(1).map((f) => f.status)).toEqual(['ok', 'ok']);
  });

  it('keep what finished when the signal fires', async () => {
    const data = generateDaily(TICKERS, { days: 3000, seed: 9 });
    const files = Array.from({ length: 12 }, (_, i) => FILES[i % FILES.length] as SymphonyIR);
    const ac = new AbortController();
    const book = await runSymphonies(files, data, {
      engine: 'js',
      maxWorkers: 2,
      signal: ac.signal,
      onProgress: (done) => {
        if (done === 2) ac.abort();
      },
    });
    expect(book.cancelled).toBe(true);
    const ok = book.files.filter((f) => f.status === 'ok');
    expect(ok.length).toBeGreaterThanOrEqual(2);
    expect(ok.length).toBeLessThan(files.length);
    for (const f of book.files.filter((x) => x.status === 'failed')) {
      expect(f.error?.code).toBe('ERR_TICKFORGE_CANCELLED');
    }
  });

  it('reuse their threads run after run, each run with its own data, also after an early abort', async () => {
    const files = [...FILES, ...FILES];
    const first = generateDaily(TICKERS, { days: 300, seed: 1 });
    // Aborted at once: its threads are handed back before they have even loaded.
    const ac = new AbortController();
    const pending = runSymphonies(files, first, { engine: 'js', maxWorkers: 2, signal: ac.signal });
    ac.abort();
    expect((await pending).cancelled).toBe(true);
    for (let seed = 2; seed < 8; seed++) {
      const data = generateDaily(TICKERS, { days: 300, seed });
      const [threads, one] = await Promise.all([
        runSymphonies(files, data, { engine: 'js', maxWorkers: 2 }),
        runSymphonies(files, data, { engine: 'js', parallelism: 'none' }),
      ]);
      threads.files.forEach((f, i) => {
        expect(f.status).toBe('ok');
        expect(f.output?.weights).toEqual(one.files[i]?.output?.weights);
        expect(f.output?.equity).toEqual(one.files[i]?.output?.equity);
      });
    }
  });
});
