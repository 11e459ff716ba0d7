import type { Family } from '../types.js';
export const ticksFamily: Family = { name: 'ticks', run: async () => null };
