/**
 * Names shared by the symphony compiler and decompiler: the operator vocabulary of `defsymphony`.
 */
import { SYMPHONY_NODE_TYPES } from '../symphony/types.js';

/** Each node operator is named as the IR node type it compiles to. */
export const NODE_OPS = SYMPHONY_NODE_TYPES;
export type NodeOp = (typeof NODE_OPS)[number];

export const COMPARE_OPS = ['>', '<', '>=', '<=', '='] as const;
export const SELECT_OPS = ['select-top', 'select-bottom'] as const;
/** Composer operators this language does not have, with what to write instead. */
export const UNSUPPORTED_OPS: Readonly<Record<string, string>> = {
  and: 'combine conditions by nesting: (if A [(if B [...] [...])] [...])',
  or: 'combine conditions by nesting: (if A [...] [(if B [...] [...])])',
  not: 'negate a condition by swapping its branches or its comparison',
};

/** Comparisons Composer users write that this language spells differently or lacks. */
export const COMPARE_ALIASES: Readonly<Record<string, string>> = {
  '==': 'did you mean `=`?',
  '!=': 'there is no not-equal in symphonies: write (if (= A B) [ELSE-NODES] [THEN-NODES]), swapping the branches',
  'not=': 'there is no not-equal in symphonies: write (if (= A B) [ELSE-NODES] [THEN-NODES]), swapping the branches',
  '<>': 'there is no not-equal in symphonies: write (if (= A B) [ELSE-NODES] [THEN-NODES]), swapping the branches',
};

/** Composer's metadata options: accepted and dropped (`:asset-class` is also checked). */
export const METADATA_KEYS = ['asset-class', 'asset-classes', 'description', 'id', 'name'] as const;

export const OPTION_KEYS = [
  ...METADATA_KEYS,
  'rebalance-frequency',
  'rebalance',
  'rebalance-threshold',
  'rebalance-corridor-width',
  'params',
] as const;
export const FREQUENCIES = ['daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'none'] as const;
export const PARAM_KEYS = ['default', 'type', 'min', 'max'] as const;
