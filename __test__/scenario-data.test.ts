import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type BarData,
  backtestSync,
  generateBars,
  generateTicks,
  loadScenario,
  referenceStrategy,
  type StrategyIR,
  type TickData,
  ValidationError,
} from '../src/index.js';

const root = join(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'tickforge-scenario-data-'));
const emaCross = JSON.parse(readFileSync(join(root, 'examples', 'ema-cross.strategy.json'), 'utf8')) as StrategyIR;

let ticks: TickData;
let bars: BarData;

function write(name: string, content: string): string {
  writeFileSync(join(dir, name), content);
  return name;
}

let scenarios = 0;

function scenario(content: unknown): string {
  scenarios += 1;
  const file = join(dir, `scenario-${scenarios}.json`);
  writeFileSync(file, JSON.stringify(content));
  return file;
}

/** Bitwise equality of two columns (toEqual is slow on half a million elements). */
function same(a: Float64Array | undefined, b: Float64Array): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

/** The message of the ValidationError `f` throws (fails when it throws anything else). */
function validationMessage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).message;
  }
  throw new Error('expected a ValidationError');
}

beforeAll(() => {
  ticks = generateTicks({ symbol: 'EURUSD', start: '2024-01-01', days: 6, seed: 2, stepPoints: 8 });
  bars = generateBars({ symbol: 'EURUSD', timeframe: 'M5', start: '2024-01-01', count: 6000, seed: 4 });
  // String(x) round-trips a double exactly, so the files hold the generated values bit for bit.
  const n = ticks.time.length;
  const duka = ['timestamp,askPrice,bidPrice,askVolume,bidVolume'];
  const semi = ['ts;b;a'];
  for (let i = 0; i < n; i++) {
    duka.push(`${ticks.time[i]},${ticks.ask[i]},${ticks.bid[i]},1,1`);
    semi.push(`${ticks.time[i]};${ticks.bid[i]};${ticks.ask[i]}`);
  }
  write('EURUSD_ticks.csv', `${duka.join('\n')}\n`);
  write('ticks-semicolon.txt', `${semi.join('\n')}\n`);
  write(
    'ticks.json',
    JSON.stringify({ time: Array.from(ticks.time), bid: Array.from(ticks.bid), ask: Array.from(ticks.ask) }),
  );
  const b = ['time,open,high,low,close,volume'];
  for (let i = 0; i < bars.time.length; i++) {
    b.push(`${bars.time[i]},${bars.open[i]},${bars.high[i]},${bars.low[i]},${bars.close[i]},${bars.volume[i]}`);
  }
  write('bars.csv', `${b.join('\n')}\n`);
  writeFileSync(join(dir, 'reference.strategy.json'), JSON.stringify(referenceStrategy));
});

describe('scenario data files', () => {
  it('a scenario naming a Dukascopy CSV file gives the trades of the same ticks passed as columns', () => {
    const direct = backtestSync({ ticks, strategy: referenceStrategy, engine: 'native' });
    expect(direct.trades.length).toBeGreaterThan(0);
    const s = loadScenario(
      scenario({ data: { ticks: { file: 'EURUSD_ticks.csv' } }, strategy: 'reference', engine: 'native' }),
    );
    expect(same(s.ticks?.time, ticks.time)).toBe(true);
    expect(same(s.ticks?.bid, ticks.bid)).toBe(true);
    const fromFile = backtestSync(s);
    expect(fromFile.trades).toEqual(direct.trades);
    expect(fromFile.metrics).toEqual(direct.metrics);

    const json = backtestSync(
      loadScenario(scenario({ data: { ticks: { file: 'ticks.json' } }, strategy: 'reference', engine: 'native' })),
    );
    expect(json.trades).toEqual(direct.trades);
  });

  it('a generic CSV with a column mapping, a delimiter and a time format loads the same ticks', () => {
    const s = loadScenario(
      scenario({
        data: {
          ticks: {
            file: 'ticks-semicolon.txt',
            format: 'csv',
            delimiter: ';',
            timeFormat: 'epoch-ms',
            timezone: 'UTC',
            policy: 'error',
            columns: { time: 'ts', bid: 'b', ask: 'a' },
          },
        },
        strategy: 'reference',
      }),
    );
    expect(same(s.ticks?.time, ticks.time)).toBe(true);
    expect(same(s.ticks?.ask, ticks.ask)).toBe(true);
    expect(backtestSync(s).trades).toEqual(backtestSync({ ticks, strategy: referenceStrategy }).trades);
  });

  it('a bar CSV file gives the trades of the same bars passed as columns, its timeframe detected', () => {
    const settings = { strategy: emaCross, params: { fast: 12, slow: 48 }, fillAt: 'open' as const };
    const direct = backtestSync({ ...settings, bars });
    const s = loadScenario(
      scenario({ data: { bars: { file: 'bars.csv' } }, strategy: emaCross, params: settings.params, fillAt: 'open' }),
    );
    expect(s.bars?.timeframe).toBe('M5');
    expect(same(s.bars?.close, bars.close)).toBe(true);
    expect(direct.trades.length).toBeGreaterThan(0);
    expect(backtestSync(s).trades).toEqual(direct.trades);
  });

  it('tickforge run takes the scenario file and --ticks FILE alike', () => {
    const cli = join(root, 'bin', 'tickforge.cjs');
    const run = (args: string[]) =>
      spawnSync(process.execPath, [cli, 'run', ...args, '--json'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    const file = scenario({
      data: { ticks: { file: 'EURUSD_ticks.csv', format: 'dukascopy' } },
      strategy: 'reference',
    });
    const viaScenario = run([file]);
    expect(viaScenario.stderr).toBe('');
    const viaFlag = run([join(dir, 'reference.strategy.json'), '--ticks', join(dir, 'EURUSD_ticks.csv')]);
    expect(viaFlag.stderr).toBe('');
    const direct = backtestSync({ ticks, strategy: referenceStrategy, account: { balance: 10_000 } });
    expect(JSON.parse(viaScenario.stdout).trades).toEqual(JSON.parse(JSON.stringify(direct.trades)));
    expect(JSON.parse(viaFlag.stdout).trades).toEqual(JSON.parse(JSON.stringify(direct.trades)));

    const bad = run([
      join(dir, 'reference.strategy.json'),
      '--ticks',
      join(dir, 'EURUSD_ticks.csv'),
      '--format',
      'xls',
    ]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--format');
  });

  it('bad reading options are errors that name the option', () => {
    const load = (ticksSource: unknown) => () =>
      loadScenario(scenario({ data: { ticks: ticksSource }, strategy: 'reference' }));
    expect(validationMessage(load({ file: 'EURUSD_ticks.csv', format: 'xls' }))).toContain('data.ticks.format');
    expect(validationMessage(load({ file: 'EURUSD_ticks.csv', delimiter: '|' }))).toContain('data.ticks.delimiter');
    expect(validationMessage(load({ file: 'EURUSD_ticks.csv', columns: { bidd: 'b' } }))).toMatch(
      /data\.ticks\.columns.*bidd/,
    );
    expect(validationMessage(load({ file: 'EURUSD_ticks.csv', sheet: 1 }))).toMatch(/data\.ticks.*sheet/);
    expect(validationMessage(load({ synthetic: { days: 1 }, timezone: 'EST' }))).toContain('data.ticks.timezone');
    expect(validationMessage(load({ synthetic: { days: 1 }, file: 'EURUSD_ticks.csv' }))).toContain(
      'exactly one of synthetic and file',
    );
    expect(validationMessage(load({ file: 'EURUSD_ticks.csv', timezone: 'Mars/Base' }))).toContain(
      'data.ticks.timezone',
    );
    expect(validationMessage(load({ file: 'ticks.json', timezone: 'EST' }))).toContain('data.ticks.timezone');
    expect(validationMessage(load({ file: 'ticks.parquet' }))).toMatch(/data\.ticks\.file.*Parquet.*loadTicks/s);
    expect(
      validationMessage(() => loadScenario(scenario({ data: { bars: { file: 'bars.json' } }, strategy: 'reference' }))),
    ).toContain('data.bars.timeframe');
  });

  it('a mapping that names no column of the file is an error naming the file and the column', () => {
    const message = validationMessage(() =>
      loadScenario(
        scenario({
          data: {
            ticks: { file: 'ticks-semicolon.txt', format: 'csv', columns: { time: 'ts', bid: 'bid_px', ask: 'a' } },
          },
          strategy: 'reference',
        }),
      ),
    );
    expect(message).toContain('data.ticks.columns.bid');
    expect(message).toContain('ticks-semicolon.txt');
    expect(message).toContain('bid_px');
  });
});

describe('rows a scenario skips', () => {
  it('are reported on stderr with their count, reasons and first rows', () => {
    const file = write(
      'skip.csv',
      [
        'time,bid,ask',
        '1704067200000,1.1,1.1001',
        '1704067201000,1.1,1.0999',
        '1704067202000,x,1.1001',
        ...Array.from({ length: 40 }, (_, i) => `${1704067203000 + i * 60_000},1.1,1.1001`),
      ].join('\n'),
    );
    const s = scenario({ data: { ticks: { file, policy: 'skip' } }, strategy: 'reference' });
    const r = spawnSync(process.execPath, [join(root, 'bin', 'tickforge.cjs'), 'run', s, '--engine', 'js'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('2 of 43 rows skipped (crossed 1, unparseable 1; first at rows 3, 4)');
  });
});
