import { TickforgeError, ValidationError } from '../errors.js';
import { logger } from '../log.js';
import { loadNative, nativeLoadFailure } from './native.js';

export type EngineChoice = 'native' | 'js' | 'auto';
export type EngineName = 'native' | 'js';

const CHOICES: readonly EngineChoice[] = ['native', 'js', 'auto'];

/** What choosing between a native engine and its pure-TypeScript twin needs to know. */
export interface NativeEngine {
  /** Whether the loaded binding has this engine. */
  present(): boolean;
  /** Why it does not. */
  reason(): string | undefined;
  /** The error's message when `native` is asked for and the engine is not present. */
  unavailable(reason: string | undefined): string;
  /** The warning, given once, when `auto` falls back to the TypeScript engine. */
  fallback: string;
}

/**
 * A selector for one engine: `TICKFORGE_ENGINE` overrides the argument; `auto` is native when
 * `native.present()`, else the pure-TypeScript engine with one warning per selector.
 */
export function engineSelector(native: NativeEngine): (requested?: EngineChoice) => EngineName {
  let warned = false;
  return (requested = 'auto') => {
    const fromEnv = process.env.TICKFORGE_ENGINE;
    let choice = requested;
    if (fromEnv !== undefined && fromEnv !== '') {
      if (!CHOICES.includes(fromEnv as EngineChoice)) {
        throw ValidationError.at('TICKFORGE_ENGINE', `'${fromEnv}' is not one of native, js, auto`);
      }
      choice = fromEnv as EngineChoice;
    } else if (!CHOICES.includes(choice)) {
      throw ValidationError.at('engine', `'${String(choice)}' is not one of native, js, auto`);
    }
    if (choice === 'js') return 'js';
    if (native.present()) return 'native';
    if (choice === 'native') {
      throw new TickforgeError('ERR_TICKFORGE_NATIVE_UNAVAILABLE', native.unavailable(native.reason()));
    }
    if (!warned) {
      warned = true;
      logger().warn({ reason: native.reason() }, native.fallback);
    }
    return 'js';
  };
}

const selectBacktestEngine = engineSelector({
  present: () => loadNative() !== null,
  reason: nativeLoadFailure,
  unavailable: (reason) =>
    `the native engine could not be loaded (${reason}); build it with \`npm run build:native\` or use engine: 'js'`,
  fallback: 'native engine unavailable; using the pure-TypeScript engine (same results, slower)',
});

/**
 * Picks the engine: `TICKFORGE_ENGINE` overrides the argument; `auto` is native when the binary
 * loads, else the pure-TypeScript engine with one warning per process.
 */
export function selectEngine(requested: EngineChoice = 'auto'): EngineName {
  return selectBacktestEngine(requested);
}
