import { TickforgeError, ValidationError } from '../errors.js';
import { logger } from '../log.js';
import { loadNative, nativeLoadFailure } from './native.js';

export type EngineChoice = 'native' | 'js' | 'auto';
export type EngineName = 'native' | 'js';

const CHOICES: readonly EngineChoice[] = ['native', 'js', 'auto'];
let warned = false;

/**
 * Picks the engine: `TICKFORGE_ENGINE` overrides the argument; `auto` is native when the binary
 * loads, else the pure-TypeScript engine with one warning per process.
 */
export function selectEngine(requested: EngineChoice = 'auto'): EngineName {
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
  if (loadNative()) return 'native';
  if (choice === 'native') {
    throw new TickforgeError(
      'ERR_TICKFORGE_NATIVE_UNAVAILABLE',
      `the native engine could not be loaded (${nativeLoadFailure()}); build it with \`npm run build:native\` or use engine: 'js'`,
    );
  }
  if (!warned) {
    warned = true;
    logger().warn(
      { reason: nativeLoadFailure() },
      'native engine unavailable; using the pure-TypeScript engine (same results, slower)',
    );
  }
  return 'js';
}
