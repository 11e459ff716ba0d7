import type { Instrument } from './types.js';

/** Contract facts of common symbols; anything not listed needs `instrument.pipSize` at least. */
interface Preset {
  pipSize: number;
  contractSize: number;
  digits: number;
  startPrice: number;
}

const FX = (startPrice: number): Preset => ({ pipSize: 0.0001, contractSize: 100_000, digits: 5, startPrice });
const JPY = (startPrice: number): Preset => ({ pipSize: 0.01, contractSize: 100_000, digits: 3, startPrice });

export const PRESETS: Readonly<Record<string, Preset>> = {
  EURUSD: FX(1.1),
  GBPUSD: FX(1.27),
  AUDUSD: FX(0.66),
  NZDUSD: FX(0.61),
  USDCAD: FX(1.36),
  USDCHF: FX(0.88),
  EURGBP: FX(0.86),
  USDJPY: JPY(150),
  EURJPY: JPY(162),
  GBPJPY: JPY(190),
  XAUUSD: { pipSize: 0.1, contractSize: 100, digits: 2, startPrice: 2000 },
};

export function preset(symbol: string): Preset | undefined {
  return PRESETS[symbol.toUpperCase()];
}

/** Defaults shared by every symbol: a retail account's lot rules and 1:100 leverage. */
export const INSTRUMENT_DEFAULTS: Omit<Instrument, 'symbol' | 'pipSize' | 'contractSize'> = {
  lotStep: 0.01,
  minLot: 0.01,
  maxLot: 100,
  marginRate: 0.01,
  commissionPerLot: 0,
  commissionPercent: 0,
  slippagePips: 0,
  spreadPips: 1,
};
