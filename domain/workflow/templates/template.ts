import { left, right, type Either } from 'fp-ts/lib/Either.js';
import type { Rejection } from '../../decider.ts';
import type { StepNode, WorkflowDefinitionInput } from '../definition-schema.ts';
import { fillPlaceholders, findPlaceholders, type Json, type ParameterValue, type ParameterValues } from '../placeholders.ts';

// A template is a definition written as data with `{{name}}` placeholders in its steps' titles,
// task parameters and approver lists (nowhere else: a value never becomes part of a condition
// or an id). Instantiating checks the values given against the parameters declared and fills
// them in; registration then validates the result like any other definition.

export interface TemplateParameter {
  readonly description: string;
  /** Used when no value is given; a parameter without one must be given. */
  readonly default?: ParameterValue;
  /** Takes several values (`approvers=U1,U2`), spliced into lists where written as a whole item. */
  readonly list?: boolean;
}

export interface WorkflowTemplate {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly parameters: Readonly<Record<string, TemplateParameter>>;
  readonly definition: WorkflowDefinitionInput;
}

export type TemplateErrorCode = 'UnknownParameter' | 'MissingParameter' | 'InvalidParameterValue' | 'UndeclaredPlaceholder' | 'UnusedParameter';
export interface TemplateError extends Rejection<TemplateErrorCode> {
  readonly parameter: string;
}

const templateError = (code: TemplateErrorCode, parameter: string, message: string): TemplateError => ({ code, parameter, message });

const MAX_VALUE_LENGTH = 1_000;

export type SuppliedValues = Readonly<Record<string, string | readonly string[]>>;

export function instantiateTemplate(template: WorkflowTemplate, supplied: SuppliedValues): Either<readonly TemplateError[], WorkflowDefinitionInput> {
  const errors: TemplateError[] = Object.keys(supplied)
    .filter((name) => !Object.hasOwn(template.parameters, name))
    .map((name) =>
      templateError('UnknownParameter', name, `template ${template.id} has no parameter "${name}" (it has ${Object.keys(template.parameters).join(', ')})`),
    );
  const values: Record<string, ParameterValue> = {};
  for (const [name, parameter] of Object.entries(template.parameters)) {
    const given = Object.hasOwn(supplied, name) ? supplied[name] : undefined;
    const value = given === undefined ? parameter.default : normalise(given, parameter);
    if (value === undefined) errors.push(templateError('MissingParameter', name, `template ${template.id} needs "${name}": ${parameter.description}`));
    else {
      const problem = checkValue(value, parameter);
      if (problem) errors.push(templateError('InvalidParameterValue', name, `"${name}" ${problem}`));
      else values[name] = value;
    }
  }
  return errors.length > 0 ? left(errors) : right(fillDefinition(template.definition, values));
}

/** A list parameter given as text (`U1, U2`) is split at commas. */
const normalise = (given: string | readonly string[], parameter: TemplateParameter): ParameterValue =>
  parameter.list && typeof given === 'string'
    ? given
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    : given;

function checkValue(value: ParameterValue, parameter: TemplateParameter): string | undefined {
  if (!parameter.list && typeof value !== 'string') return 'takes one value, not a list';
  const items = typeof value === 'string' ? [value] : value;
  if (items.some((item) => item.length > MAX_VALUE_LENGTH)) return `is longer than ${MAX_VALUE_LENGTH} characters`;
  if (items.some((item) => item.includes('{{') || item.includes('}}'))) return 'may not contain "{{" or "}}"';
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
  if (items.some((item) => /[\u0000-\u001f\u007f]/.test(item))) return 'contains control characters';
  return undefined;
}

/** Placeholders are filled in titles, task parameters and approver lists only. */
function fillDefinition(definition: WorkflowDefinitionInput, values: ParameterValues): WorkflowDefinitionInput {
  if (definition.form === 'stepTree') return { ...definition, root: fillNode(definition.root, values) };
  return { ...definition, states: definition.states.map((state) => (state.type === 'end' ? state : fillStep(state, values))) };
}

interface FillableStep {
  readonly title?: string | undefined;
  readonly params?: Readonly<Record<string, Json>> | undefined;
  readonly approvers?: readonly string[] | undefined;
}

function fillStep<S extends FillableStep>(step: S, values: ParameterValues): S {
  return {
    ...step,
    ...(step.title !== undefined && { title: fillPlaceholders(step.title, values) }),
    ...(step.params !== undefined && { params: fillPlaceholders(step.params, values) }),
    ...(step.approvers !== undefined && { approvers: fillPlaceholders(step.approvers, values) }),
  };
}

function fillNode(node: StepNode, values: ParameterValues): StepNode {
  switch (node.type) {
    case 'task':
    case 'approval':
      return fillStep(node, values);
    case 'sequence':
      return { ...node, steps: node.steps.map((step) => fillNode(step, values)) };
    case 'parallel':
      return { ...node, branches: node.branches.map((branch) => fillNode(branch, values)) };
    case 'conditional':
      return { ...node, then: fillNode(node.then, values), ...(node.else && { else: fillNode(node.else, values) }) };
    case 'fail':
      return node;
  }
}

/** A template's own consistency: every placeholder declared, every parameter used. */
export function checkTemplate(template: WorkflowTemplate): TemplateError[] {
  const used = findPlaceholders(template.definition);
  return [
    ...used
      .filter((name) => !Object.hasOwn(template.parameters, name))
      .map((name) => templateError('UndeclaredPlaceholder', name, `template ${template.id} uses {{${name}}} but declares no such parameter`)),
    ...Object.keys(template.parameters)
      .filter((name) => !used.includes(name))
      .map((name) => templateError('UnusedParameter', name, `template ${template.id} declares "${name}" but never uses it`)),
  ];
}
