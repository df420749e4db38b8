import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { z } from 'zod';
import type { Rejection } from '../decider.ts';
import type { AskedFor, JsonValue } from './events.ts';

// The named variables follow-up requests resolve against ("now run tests", "fix those
// issues"), each with the value shape readers rely on; `custom.*` names hold any JSON value.

export const contextVariableSchemas = {
  currentRepo: z.string().min(1),
  lastTaskIds: z.array(z.string().min(1)),
  lastFindings: z.json(),
  lastTaskType: z.string().min(1),
  /** The thread's latest plan: typed APPROVE runs it while it waits. */
  lastPlanId: z.string().min(1),
  /** The workflow that plan became: typed APPROVE decides its open gate. */
  lastWorkflowId: z.string().min(1),
};

export type KnownContextVariable = keyof typeof contextVariableSchemas;

const CUSTOM_NAME = /^custom\.[a-z][a-zA-Z0-9]*$/;

const isKnown = (name: string): name is KnownContextVariable => Object.hasOwn(contextVariableSchemas, name);

export const isContextVariableName = (name: string): boolean => isKnown(name) || CUSTOM_NAME.test(name);

const invalid = (message: string): Rejection<'InvalidContextVariable'> => ({ code: 'InvalidContextVariable', message });

export function checkContextVariable(name: string, value: JsonValue): Either<Rejection<'InvalidContextVariable'>, JsonValue> {
  if (isKnown(name)) {
    const parsed = contextVariableSchemas[name].safeParse(value);
    return parsed.success ? right(value) : left(invalid(`${name}: ${parsed.error.issues.map((i) => i.message).join('; ')}`));
  }
  return CUSTOM_NAME.test(name)
    ? right(value)
    : left(invalid(`unknown context variable "${name}"; expected ${Object.keys(contextVariableSchemas).join(', ')} or custom.<camelCaseName>`));
}

/** Structural equality of JSON values, so setting the same list again is recognised as no change. */
export function sameJson(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  }
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
}

/** The variables a recorded request sets: its reading's own, then what it asked for (which wins). */
export const contextOfRequest = (asked: AskedFor, context: Readonly<Record<string, JsonValue>>): Record<string, JsonValue> => ({
  ...context,
  ...(asked.kind === 'task' ? { lastTaskType: asked.taskType, lastTaskIds: [...asked.taskIds] } : { lastPlanId: asked.planId }),
});
