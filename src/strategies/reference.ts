// biome-ignore-all lint/suspicious/noThenProperty: `then` is the strategy IR's field name
/**
 * The reference strategy: section 4's RSI + envelope example with its symmetric short rule. It is
 * the workload of the benchmarks and the engine parity tests.
 */
import type { StrategyIR } from '../types.js';

export const referenceStrategy: StrategyIR = {
  version: 1,
  name: 'rsi-envelope',
  params: {
    rsiPeriod: { default: 14, type: 'int', min: 2 },
    slPips: { default: 20 },
    tpPips: { default: 40 },
    lots: { default: 1 },
  },
  decision: { timeframe: 'M5', on: 'bar' },
  workers: [
    { id: 'rsi', kind: 'rsi', timeframe: 'M5', params: { period: { param: 'rsiPeriod' } } },
    { id: 'env', kind: 'envelope', timeframe: 'M30', params: { period: 20, percent: 2.0 } },
  ],
  rules: [
    {
      when: {
        op: 'and',
        args: [
          { op: '==', args: [{ position: 'side' }, 0] },
          { op: '<', args: [{ worker: 'rsi' }, 30] },
          { op: '<', args: [{ bar: 'close' }, { worker: 'env', output: 'lower' }] },
        ],
      },
      then: [
        {
          action: 'buy',
          lots: { param: 'lots' },
          sl: { pips: { param: 'slPips' } },
          tp: { pips: { param: 'tpPips' } },
        },
      ],
    },
    {
      when: {
        op: 'and',
        args: [
          { op: '==', args: [{ position: 'side' }, 0] },
          { op: '>', args: [{ worker: 'rsi' }, 70] },
          { op: '>', args: [{ bar: 'close' }, { worker: 'env', output: 'upper' }] },
        ],
      },
      then: [
        {
          action: 'sell',
          lots: { param: 'lots' },
          sl: { pips: { param: 'slPips' } },
          tp: { pips: { param: 'tpPips' } },
        },
      ],
    },
  ],
};
