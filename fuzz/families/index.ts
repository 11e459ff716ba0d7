import type { Family, FamilyName } from '../types.js';

/** Loads one family's module (each imports the built package only when it is used). */
export async function loadFamily(name: FamilyName | 'selftest'): Promise<Family> {
  switch (name) {
    case 'selftest':
      return (await import('./selftest.js')).selftestFamily;
    case 'ir':
      return (await import('./ir.js')).irFamily;
    case 'csv':
      return (await import('./csv.js')).csvFamily;
    case 'dsl':
      return (await import('./dsl.js')).dslFamily;
    case 'ticks':
      return (await import('./ticks.js')).ticksFamily;
  }
}
