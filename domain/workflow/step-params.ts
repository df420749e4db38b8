import { isLeft, type Either } from 'fp-ts/lib/Either.js';
import type { ConditionContext } from './condition-eval.ts';
import { valueAtPath } from './condition-eval.ts';
import { parsePath } from './condition-parser.ts';
import type { Expression, InvalidCondition } from './condition-syntax.ts';
import type { StepParams } from './step-fields.ts';

// A step can take an earlier step's output as a parameter: a value written as
// `{ "$from": "steps.analyze.output.todo" }` is replaced, when the step is scheduled, by what that
// path reads then (null when it reads nothing). The path uses the condition syntax, so it is
// checked on registration and read without running anything.

type Json = StepParams[string];

export interface ParamReference {
  /** Where in the parameters, e.g. `findings` or `options.limit`. */
  readonly at: string;
  readonly source: string;
  readonly path: Either<InvalidCondition, Extract<Expression, { kind: 'path' }>>;
}

const referenceSource = (value: Json): string | undefined => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  const source = value['$from'];
  return keys.length === 1 && typeof source === 'string' ? source : undefined;
};

export function referencesIn(params: StepParams): ParamReference[] {
  const found: ParamReference[] = [];
  const visit = (value: Json, at: string): void => {
    const source = referenceSource(value);
    if (source !== undefined) {
      found.push({ at, source, path: parsePath(source) });
    } else if (Array.isArray(value)) value.forEach((item, i) => visit(item, `${at}[${i}]`));
    else if (typeof value === 'object' && value !== null) for (const [key, item] of Object.entries(value)) visit(item, at === '' ? key : `${at}.${key}`);
  };
  visit(params, '');
  return found;
}

export function resolveParams(params: StepParams, context: ConditionContext): StepParams {
  const resolve = (value: Json): Json => {
    const source = referenceSource(value);
    if (source !== undefined) {
      const path = parsePath(source);
      return isLeft(path) ? null : toJson(valueAtPath(path.right, context));
    }
    if (Array.isArray(value)) return value.map(resolve);
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolve(item)]));
    return value;
  };
  return Object.fromEntries(Object.entries(params).map(([key, value]) => [key, resolve(value)]));
}

/** Outputs are JSON already (they came through the event log); `undefined` becomes null. */
const toJson = (value: unknown): Json => (value === undefined ? null : (value as Json));
