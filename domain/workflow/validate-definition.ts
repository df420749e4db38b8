import { isLeft, left, right, type Either } from 'fp-ts/lib/Either.js';
import type { z } from 'zod';
import { compileDefinition, type CompileOptions } from './compile.ts';
import { ungatedSideEffects } from './gates.ts';
import type { CompiledWorkflow, Transition, WorkflowNode } from './compiled.ts';
import { parseCondition } from './condition-parser.ts';
import type { Expression } from './condition-syntax.ts';
import {
  conditionError,
  duplicateStepId,
  invalidDefinition,
  unfilledPlaceholder,
  ungatedSideEffect,
  unknownStepReference,
  unknownTaskType,
  type DefinitionError,
} from './definition-errors.ts';
import { workflowDefinitionSchema } from './definition-schema.ts';
import { checkGraph } from './graph-checks.ts';
import { placedNodes } from './machine-index.ts';
import { referencesIn } from './step-params.ts';
import { findPlaceholders } from './placeholders.ts';

// Registration (WF1): shape, then compile, then every check on the compiled form, reporting
// every problem at once. The task types are passed in so domain/ stays free of the registry.

/** What registration knows of the deployment: its task types, and how steps are classified and gated (compile.ts). */
export interface Registry extends CompileOptions {
  /** Task types a worker can run. */
  readonly taskTypes: readonly string[];
}

export function registerDefinition(input: unknown, registry: Registry): Either<readonly DefinitionError[], CompiledWorkflow> {
  const parsed = workflowDefinitionSchema.safeParse(input);
  if (!parsed.success) return left(parsed.error.issues.map(describeIssue));
  const compiled = compileDefinition(parsed.data, registry);
  if (isLeft(compiled)) return compiled;
  const errors = [...checkCompiled(compiled.right, registry), ...ungatedSideEffects(compiled.right.machine).map((step) => ungatedSideEffect(step.id))];
  return errors.length > 0 ? left(errors) : right(compiled.right);
}

const describeIssue = (issue: z.core.$ZodIssue): DefinitionError =>
  invalidDefinition(issue.path.length > 0 ? issue.path.map(String).join('.') : 'definition', issue.message);

/**
 * Everything that can be wrong with a compiled workflow. Without a registry the task types are
 * not checked: the decider repeats these checks on what it is asked to start, but only
 * registration knows which task types exist.
 */
export function checkCompiled(workflow: CompiledWorkflow, registry?: Registry): DefinitionError[] {
  const nodes = [...placedNodes(workflow.machine)].map((placed) => placed.node);
  const stepIds = new Set(nodes.filter((n) => n.kind === 'task' || n.kind === 'approval').map((n) => n.id));
  return [
    ...duplicates(nodes),
    ...checkGraph(workflow.machine),
    ...nodes.flatMap((node) => checkConditions(node, stepIds)),
    ...nodes.flatMap((node) => checkParams(node, stepIds)),
    ...nodes.flatMap((node) => findPlaceholders(node).map((name) => unfilledPlaceholder(node.id, name))),
    ...(registry ? checkTaskTypes(nodes, registry.taskTypes) : []),
  ];
}

function duplicates(nodes: readonly WorkflowNode[]): DefinitionError[] {
  const counts = new Map<string, number>();
  for (const { id } of nodes) counts.set(id, (counts.get(id) ?? 0) + 1);
  return [...counts].filter(([, count]) => count > 1).map(([id, count]) => duplicateStepId(id, count));
}

function checkConditions(node: WorkflowNode, stepIds: ReadonlySet<string>): DefinitionError[] {
  if (node.kind === 'end') return [];
  return node.next.flatMap((transition: Transition) => {
    if (transition.when === undefined) return [];
    const where = `the condition on "${node.id}" → "${transition.to}"`;
    const parsed = parseCondition(transition.when);
    if (isLeft(parsed)) return [conditionError(where, node.id, parsed.left.message, parsed.left.position)];
    return stepsRead(parsed.right)
      .filter((id) => !stepIds.has(id))
      .map((id) => unknownStepReference(where, node.id, id));
  });
}

function checkParams(node: WorkflowNode, stepIds: ReadonlySet<string>): DefinitionError[] {
  if (node.kind !== 'task') return [];
  return referencesIn(node.params).flatMap(({ at, path }) => {
    const where = `parameter ${at} of step "${node.id}"`;
    if (isLeft(path)) return [conditionError(where, node.id, path.left.message, path.left.position)];
    return stepsRead(path.right)
      .filter((id) => !stepIds.has(id))
      .map((id) => unknownStepReference(where, node.id, id));
  });
}

function checkTaskTypes(nodes: readonly WorkflowNode[], known: readonly string[]): DefinitionError[] {
  return nodes.flatMap((node) => (node.kind === 'task' && !known.includes(node.taskType) ? [unknownTaskType(node.id, node.taskType, known)] : []));
}

/** The step ids an expression reads through `steps.<id>`. */
export function stepsRead(expression: Expression): string[] {
  switch (expression.kind) {
    case 'literal':
      return [];
    case 'path': {
      const [first] = expression.segments;
      return expression.root === 'steps' && typeof first === 'string' ? [first] : [];
    }
    case 'list':
      return expression.items.flatMap(stepsRead);
    case 'not':
      return stepsRead(expression.operand);
    default:
      return [...stepsRead(expression.left), ...stepsRead(expression.right)];
  }
}
