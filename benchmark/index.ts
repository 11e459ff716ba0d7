import { benchBacktest } from './backtest.bench.js';

await benchBacktest();
