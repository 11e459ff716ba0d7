import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  backtest,
  backtestSync,
  CancelledError,
  EngineError,
  generateTicks,
  loadNative,
  referenceStrategy,
  selectEngine,
  type TickData,
  TimeoutError,
  ValidationError,
} from '../src/index.js';
import { expectIdentical } from './helpers/compare.js';

const root = join(__dirname, '..');
let ticks: TickData;

beforeAll(() => {
  ticks = generateTicks({ symbol: 'EURUSD', start: '2024-01-01', days: 10, seed: 3, stepPoints: 8 });
});

describe('native binding', () => {
  it('loads in this checkout (npm install built it)', () => {
    expect(loadNative()).not.toBeNull();
    expect(selectEngine('auto')).toBe('native');
  });

  it('async and sync twins give identical results', async () => {
    const a = await backtest({ ticks, strategy: referenceStrategy, engine: 'native' });
    const b = backtestSync({ ticks, strategy: referenceStrategy, engine: 'native' });
    expect(a.engine).toBe('native');
    expect(a.trades.length).toBeGreaterThan(0);
    expectIdentical(a, b);
  });

  it('returns typed arrays for the equity curve and a run id', async () => {
    const r = await backtest({ ticks, strategy: referenceStrategy, engine: 'native' });
    expect(r.equity.time).toBeInstanceOf(Float64Array);
    expect(r.equity.equity).toBeInstanceOf(Float64Array);
    expect(r.equity.balance.length).toBe(r.equity.time.length);
    expect(r.runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.events).toBe(ticks.time.length);
  });

  it('keeps the event loop free while the native engine runs', async () => {
    const big = generateTicks({ symbol: 'EURUSD', start: '2024-01-01', days: 40, seed: 5 });
    backtestSync({ ticks: big, strategy: referenceStrategy, engine: 'native' }); // copy the data once
    let beats = 0;
    const timer = setInterval(() => beats++, 1);
    const runs = Array.from({ length: 8 }, () =>
      backtest({ ticks: big, strategy: referenceStrategy, engine: 'native' }),
    );
    const started = performance.now();
    await Promise.all(runs);
    const elapsed = performance.now() - started;
    clearInterval(timer);
    // A blocked loop would not fire the 1 ms timer at all while the runs are in flight.
    if (elapsed > 20) expect(beats).toBeGreaterThan(0);
  });

  it('turns an engine panic into a rejected promise with ERR_TICKFORGE_PANIC', async () => {
    const err = await backtest({ ticks, strategy: referenceStrategy, engine: 'native', _fault: 'panic' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('ERR_TICKFORGE_PANIC');
    expect((err as EngineError).message).toContain('injected fault');
    expect(() => backtestSync({ ticks, strategy: referenceStrategy, engine: 'native', _fault: 'panic' })).toThrow(
      EngineError,
    );
    // The process and the pool survive: the next run works.
    const after = await backtest({ ticks, strategy: referenceStrategy, engine: 'native' });
    expect(after.trades.length).toBeGreaterThan(0);
  });

  it('cancels through an AbortSignal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      backtest({ ticks, strategy: referenceStrategy, engine: 'native', signal: controller.signal }),
    ).rejects.toBeInstanceOf(CancelledError);
    const big = generateTicks({ symbol: 'EURUSD', start: '2024-01-01', days: 200, seed: 9 });
    backtestSync({ ticks: big, strategy: referenceStrategy, engine: 'native', end: big.time[10] });
    const c2 = new AbortController();
    const pending = backtest({ ticks: big, strategy: referenceStrategy, engine: 'native', signal: c2.signal });
    c2.abort();
    const outcome = await pending.then(
      () => 'finished',
      (e: unknown) => e,
    );
    // Either the run saw the flag (CancelledError) or it had already finished before the abort.
    if (outcome !== 'finished') expect(outcome).toBeInstanceOf(CancelledError);
  });

  it('stops at the timeout', async () => {
    const big = generateTicks({ symbol: 'EURUSD', start: '2024-01-01', days: 120, seed: 9 });
    await expect(
      backtest({ ticks: big, strategy: referenceStrategy, engine: 'native', timeoutMs: 0 }),
    ).rejects.toBeInstanceOf(TimeoutError);
    expect(() => backtestSync({ ticks: big, strategy: referenceStrategy, engine: 'js', timeoutMs: 0 })).toThrow(
      TimeoutError,
    );
  });

  it('reports bad data from the native side as a ValidationError with its row', async () => {
    const bad: TickData = {
      time: Float64Array.from([1, 2, 3]),
      bid: Float64Array.from([1.1, Number.NaN, 1.1]),
      ask: Float64Array.from([1.2, 1.2, 1.2]),
    };
    const err = await backtest({ ticks: bad, strategy: referenceStrategy, engine: 'native' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues).toEqual([
      { path: 'ticks.bid[1]', message: 'NaN is not a positive finite price' },
    ]);
  });
});

function node(script: string, env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
}

describe('process behaviour', () => {
  it('exits promptly once the work is done (no handle keeps Node alive)', () => {
    const started = Date.now();
    const r = node(
      `import { backtest, generateTicks, referenceStrategy } from './dist/index.js';
       const ticks = generateTicks({ days: 3, seed: 1 });
       const r = await backtest({ ticks, strategy: referenceStrategy, engine: 'native' });
       console.log(r.engine, r.events);`,
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^native \d+$/);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('TICKFORGE_ENGINE overrides the argument', () => {
    const r = node(
      `import { backtest, generateTicks, referenceStrategy } from './dist/index.js';
       const r = await backtest({ ticks: generateTicks({ days: 2 }), strategy: referenceStrategy, engine: 'native' });
       console.log(r.engine);`,
      { TICKFORGE_ENGINE: 'js' },
    );
    expect(r.stdout.trim()).toBe('js');
  });

  it('auto falls back to the pure-TS engine with one warning when the binary cannot load', () => {
    const r = node(
      `import { backtest, generateTicks, referenceStrategy } from './dist/index.js';
       const ticks = generateTicks({ days: 2 });
       const a = await backtest({ ticks, strategy: referenceStrategy });
       const b = await backtest({ ticks, strategy: referenceStrategy });
       console.log(a.engine, b.engine);`,
      { NAPI_RS_NATIVE_LIBRARY_PATH: join(root, 'does-not-exist.node') },
    );
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('js js');
    const warnings = r.stderr.split('\n').filter((l) => l.includes('native engine unavailable'));
    expect(warnings).toHaveLength(1);
  });

  it('works from CommonJS too', () => {
    const r = spawnSync(
      process.execPath,
      [
        '-e',
        `const t = require('./dist/index.cjs');
         const r = t.backtestSync({ ticks: t.generateTicks({ days: 2 }), strategy: t.referenceStrategy });
         console.log(typeof t.backtest, r.engine);`,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('function native');
  });
});
