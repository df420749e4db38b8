import type { ComparisonOperator, Expression, PathRoot } from './condition-syntax.ts';

// Evaluation is total: it never throws. A path that leads nowhere is `undefined`, and any
// comparison with `undefined` is false (`!=` included), so a condition over a step that has not
// run is simply not met. Only own properties of plain data are read, never prototypes.

export type ConditionContext = Readonly<Record<PathRoot, unknown>>;

export const evaluateCondition = (expression: Expression, context: ConditionContext): boolean => truthy(valueOf(expression, context));

/** The value a path names, or `undefined`. */
export const valueAtPath = (expression: Extract<Expression, { kind: 'path' }>, context: ConditionContext): unknown =>
  expression.segments.reduce<unknown>(child, context[expression.root]);

function valueOf(expression: Expression, context: ConditionContext): unknown {
  switch (expression.kind) {
    case 'literal':
      return expression.value;
    case 'path':
      return valueAtPath(expression, context);
    case 'list':
      return expression.items.map((item) => valueOf(item, context));
    case 'not':
      return !truthy(valueOf(expression.operand, context));
    case 'and':
      return truthy(valueOf(expression.left, context)) && truthy(valueOf(expression.right, context));
    case 'or':
      return truthy(valueOf(expression.left, context)) || truthy(valueOf(expression.right, context));
    case 'compare':
      return compare(expression.operator, valueOf(expression.left, context), valueOf(expression.right, context));
  }
}

function child(value: unknown, segment: string | number): unknown {
  if (Array.isArray(value) || typeof value === 'string') {
    if (segment === 'length') return value.length;
    return typeof segment === 'number' && segment < value.length ? value[segment] : undefined;
  }
  if (isRecord(value) && typeof segment === 'string' && Object.hasOwn(value, segment)) return value[segment];
  return undefined;
}

function compare(operator: ComparisonOperator, a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return false;
  switch (operator) {
    case '==':
      return sameValue(a, b);
    case '!=':
      return !sameValue(a, b);
    case 'in':
      return contains(b, a);
    default:
      return ordered(operator, a, b);
  }
}

function ordered(operator: '<' | '<=' | '>' | '>=', a: unknown, b: unknown): boolean {
  const comparable = (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');
  if (!comparable) return false;
  const x = a as number | string;
  const y = b as number | string;
  return operator === '<' ? x < y : operator === '<=' ? x <= y : operator === '>' ? x > y : x >= y;
}

/** `x in [..]` is membership, `"a" in "abc"` is a substring test, `"k" in {..}` asks for a key. */
function contains(container: unknown, item: unknown): boolean {
  if (Array.isArray(container)) return container.some((element) => sameValue(element, item));
  if (typeof container === 'string') return typeof item === 'string' && container.includes(item);
  if (isRecord(container)) return typeof item === 'string' && Object.hasOwn(container, item);
  return false;
}

/** Structural equality of JSON values; no coercion (`1 == "1"` is false). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameValue(a[k], b[k]));
  }
  return false;
}

function truthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === '') return false;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  return true;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
