import type { BacktestResult } from '../backtest.js';
import { PROFILE_STEPS } from '../types.js';

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const money = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

function num(x: number, digits = 2): string {
  if (Number.isNaN(x)) return 'n/a';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '-∞';
  return x.toFixed(digits);
}

function cash(x: number): string {
  return Number.isFinite(x) ? money.format(x) : num(x);
}

function pct(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}%` : num(x);
}

function isoDay(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString().slice(0, 16).replace('T', ' ') : 'n/a';
}

function rows(pairs: [string, string][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

/** The human summary of one run, as `tickforge demo` and `tickforge run` print it. */
export function formatSummary(r: BacktestResult, title: string): string {
  const m = r.metrics;
  const lines = [
    title,
    '',
    rows([
      ['Trades', `${int.format(m.tradeCount)} (${m.wins} won, ${m.losses} lost, ${m.rejectedOrders} rejected orders)`],
      ['Net profit', `${cash(m.netProfit)} (${pct(m.returnPct)})`],
      ['Final balance', cash(m.finalBalance)],
      ['Max drawdown', `${cash(m.maxDrawdown)} (${pct(m.maxDrawdownPct)})`],
      ['Sharpe', num(m.sharpe)],
      ['Sortino', num(m.sortino)],
      ['Win rate', pct(m.winRatePct)],
      ['Profit factor', num(m.profitFactor)],
      ['Expectancy', cash(m.expectancy)],
      ['Avg win / loss', `${cash(m.avgWin)} / ${cash(m.avgLoss)}`],
      ['SQN', num(m.sqn)],
      ['Exposure', pct(m.exposurePct)],
      [
        r.mode === 'tick' ? 'Ticks' : 'Bars',
        `${int.format(r.events)} (${int.format(r.equity.time.length)} equity samples)`,
      ],
      [
        'Speed',
        `${int.format(r.eventsPerSecond)} ${r.mode === 'tick' ? 'ticks' : 'bars'}/s (${r.engine} engine, ${num(r.engineMs, 1)} ms in the loop)`,
      ],
      ['Run id', r.runId],
    ]),
  ];
  return lines.join('\n');
}

export function formatProfile(r: BacktestResult): string {
  if (!r.profile) return '';
  const total = PROFILE_STEPS.reduce((s, k) => s + (r.profile?.[k].ms ?? 0), 0);
  const head = `  ${'step'.padEnd(16)}${'ms'.padStart(10)}${'share'.padStart(9)}${'count'.padStart(14)}`;
  const body = PROFILE_STEPS.map((k) => {
    const s = r.profile![k];
    const share = total > 0 ? `${((s.ms / total) * 100).toFixed(1)}%` : '-';
    return `  ${k.padEnd(16)}${s.ms.toFixed(2).padStart(10)}${share.padStart(9)}${int.format(s.count).padStart(14)}`;
  });
  return ['Profile (timers on; the timed run is slower than the unprofiled one)', head, ...body].join('\n');
}

export function describeTicks(time: Float64Array): string {
  return `${int.format(time.length)} ticks, ${isoDay(time[0] ?? Number.NaN)} to ${isoDay(time[time.length - 1] ?? Number.NaN)} UTC`;
}

export function describeBars(timeframe: string, time: Float64Array): string {
  return `${int.format(time.length)} ${timeframe} bars, ${isoDay(time[0] ?? Number.NaN)} to ${isoDay(time[time.length - 1] ?? Number.NaN)} UTC`;
}

/** JSON with typed arrays as plain arrays and NaN/Infinity as null. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) => {
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
      if (typeof v === 'number' && !Number.isFinite(v)) return null;
      return v;
    },
    2,
  );
}
