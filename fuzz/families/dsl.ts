import type { Family } from '../types.js';
export const dslFamily: Family = { name: 'dsl', run: async () => null };
