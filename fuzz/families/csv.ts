import type { Family } from '../types.js';
export const csvFamily: Family = { name: 'csv', run: async () => null };
