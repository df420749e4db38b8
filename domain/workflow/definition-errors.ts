import type { Rejection } from '../decider.ts';

// Why a definition is refused on registration (WF1). Each error names its culprit: the state or
// step at fault (for a loop, its first state, with every state of the loop in `loop`).

export type DefinitionErrorCode =
  | 'InvalidDefinition'
  | 'DuplicateStepId'
  | 'UnknownState'
  | 'UnreachableState'
  | 'LoopWithoutExit'
  | 'LoopWithoutTask'
  | 'DeadEndState'
  | 'NoEndState'
  | 'UnknownTaskType'
  | 'InvalidCondition'
  | 'UnknownStepReference'
  | 'UnfilledPlaceholder'
  | 'UngatedSideEffect'
  | 'GateApproversOutsidePolicy'
  | 'GateQuorumUnreachable';

export interface DefinitionError extends Rejection<DefinitionErrorCode> {
  readonly culprit: string;
  /** InvalidCondition: offset in the condition where it went wrong. */
  readonly position?: number;
  /** LoopWithoutExit, LoopWithoutTask: the states that form the loop. */
  readonly loop?: readonly string[];
}

const error = (code: DefinitionErrorCode, culprit: string, message: string, extra: Partial<DefinitionError> = {}): DefinitionError => ({
  code,
  culprit,
  message,
  ...extra,
});

const list = (ids: readonly string[]): string => ids.join(' → ');

export const invalidDefinition = (where: string, problem: string): DefinitionError => error('InvalidDefinition', where, `${where}: ${problem}`);

export const duplicateStepId = (id: string, count: number): DefinitionError =>
  error('DuplicateStepId', id, `step id "${id}" is used ${count} times; ids must be unique in a workflow`);

export const unknownStart = (start: string, scope: string): DefinitionError =>
  error('UnknownState', start, `${scope} starts at state "${start}", which is not defined`);

export const unknownState = (from: string, to: string): DefinitionError =>
  error('UnknownState', to, `state "${from}" has a transition to "${to}", which is not defined`);

export const unreachableState = (id: string, scope: string): DefinitionError =>
  error('UnreachableState', id, `state "${id}" cannot be reached from the start of ${scope}`);

export const loopWithoutExit = (loop: readonly string[]): DefinitionError =>
  error('LoopWithoutExit', loop[0]!, `states ${list(loop)} form a loop from which no end state can be reached`, { loop });

export const loopWithoutTask = (loop: readonly string[]): DefinitionError =>
  error('LoopWithoutTask', loop[0]!, `states ${list(loop)} form a loop that runs no task, so nothing could change to end it`, { loop });

export const deadEndState = (id: string): DefinitionError =>
  error('DeadEndState', id, `state "${id}" is not an end state and has no transitions, so the workflow would stop there`);

export const noEndState = (scope: string): DefinitionError => error('NoEndState', scope, `${scope} has no end state`);

export const unknownTaskType = (stepId: string, taskType: string, known: readonly string[]): DefinitionError =>
  error('UnknownTaskType', stepId, `step "${stepId}" runs task type "${taskType}", which is not registered (registered: ${known.join(', ') || 'none'})`);

export const conditionError = (where: string, culprit: string, message: string, position: number): DefinitionError =>
  error('InvalidCondition', culprit, `${where}: ${message}`, { position });

export const unknownStepReference = (where: string, culprit: string, stepId: string): DefinitionError =>
  error('UnknownStepReference', culprit, `${where} reads steps.${stepId}, which is not a step of this workflow`);

export const unfilledPlaceholder = (culprit: string, placeholder: string): DefinitionError =>
  error('UnfilledPlaceholder', culprit, `step "${culprit}" still contains the template placeholder {{${placeholder}}}`);

export const ungatedSideEffect = (stepId: string): DefinitionError =>
  error('UngatedSideEffect', stepId, `step "${stepId}" has side effects and can be reached without passing an approval gate`);

export const gateApproversOutsidePolicy = (gateId: string, named: readonly string[], allowed: readonly string[]): DefinitionError =>
  error(
    'GateApproversOutsidePolicy',
    gateId,
    `approval gate "${gateId}" names approvers (${named.join(', ')}) of whom none may approve what it guards under the policy (allowed: ${[...new Set(allowed)].join(', ')})`,
  );

export const gateQuorumUnreachable = (gateId: string, quorum: number, approvers: readonly string[], inserted: boolean): DefinitionError =>
  error(
    'GateQuorumUnreachable',
    gateId,
    `approval gate "${gateId}" needs ${quorum} distinct approvers but ${inserted ? 'the policy names' : 'only these may approve under the policy:'} ${approvers.length === 0 ? 'none' : approvers.join(', ')}${inserted ? ' (fewer than its quorum)' : ''}`,
  );
