import type { Rejection } from '../decider.ts';

// The conditions workflows branch on (WF6): a small expression form over earlier step outputs
// and the workflow's inputs, e.g. `steps.test.output.failed == 0 && steps.lint.status == "completed"`.
// It is parsed into the tree below and evaluated by walking it; nothing is ever run as code.
//
//   or         := and ("||" and)*
//   and        := comparison ("&&" comparison)*
//   comparison := unary (("==" | "!=" | "<" | "<=" | ">" | ">=" | "in") unary)?
//   unary      := "!" unary | primary
//   primary    := number | string | true | false | null | path | "(" or ")" | "[" (or ("," or)*)? "]"
//   path       := ("steps" | "inputs") ("." name | "[" (string | integer) "]")*
//
// Names may contain "-" after their first character (`steps.run-tests.status`): there is no
// arithmetic, so a "-" can only belong to a name or start a negative number.

export type Literal = string | number | boolean | null;
export type ComparisonOperator = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in';
export type PathRoot = 'steps' | 'inputs';

export type Expression =
  | { readonly kind: 'literal'; readonly value: Literal }
  | { readonly kind: 'path'; readonly root: PathRoot; readonly segments: readonly (string | number)[] }
  | { readonly kind: 'list'; readonly items: readonly Expression[] }
  | { readonly kind: 'not'; readonly operand: Expression }
  | { readonly kind: 'and' | 'or'; readonly left: Expression; readonly right: Expression }
  | { readonly kind: 'compare'; readonly operator: ComparisonOperator; readonly left: Expression; readonly right: Expression };

export const MAX_CONDITION_LENGTH = 2_000;
/** Deeper nesting than this is refused rather than risking the parser's stack. */
export const MAX_CONDITION_DEPTH = 32;

/** A condition that does not parse: where (0-based character offset) and why. */
export interface InvalidCondition extends Rejection<'InvalidCondition'> {
  readonly source: string;
  readonly position: number;
}

export const invalidCondition = (source: string, position: number, problem: string): InvalidCondition => ({
  code: 'InvalidCondition',
  message: `invalid condition ${JSON.stringify(source)}: ${problem} at position ${position}`,
  source,
  position,
});
