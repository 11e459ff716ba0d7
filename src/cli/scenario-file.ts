/**
 * Scenario files as the CLI loads them: `loadScenario` (whose `strategy` may name an IR JSON file
 * or a `.clj` DSL file), with `--strategy FILE` (IR JSON or `.clj`) replacing the scenario's own.
 */
import { loadStrategyFile } from '../dsl/strategy-file.js';
import { type LoadedScenario, loadScenario } from '../scenario.js';

/** Loads a scenario file; `strategyFile` (IR JSON or `.clj`) replaces its strategy when given. */
export function loadScenarioFile(file: string, strategyFile?: string): LoadedScenario {
  const loaded = loadScenario(file);
  return strategyFile === undefined ? loaded : { ...loaded, strategy: loadStrategyFile(strategyFile) };
}
