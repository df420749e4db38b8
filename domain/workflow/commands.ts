import type { Either } from 'fp-ts/lib/Either.js';
import { z } from 'zod';
import { taskErrorSchema } from '../task/fields.ts';
import { idField, parseCommandWith, timestampField, type CommandsOf, type InvalidCommand } from '../validation.ts';
import { compiledWorkflowSchema } from './compiled.ts';

// Commands the workflow aggregate takes: StartWorkflow from whoever starts it (a template or a
// compiled plan), step outcomes from the process manager that turns tasks' events back into
// commands, approvals from people, and timeouts from the scheduler. Time, ids and even the jitter
// of a retry's backoff arrive here; the decider reads no clock and draws no random number.

/** Short enough that `${workflowId}_${stepId}_${attempt}` is still a valid task id. */
const workflowId = idField.refine((id) => id.length <= 120, { error: 'must be at most 120 characters' });
const workflowCommand = z.object({ workflowId, at: timestampField });

/** Task attempts of a step are numbered 1, 2, 3… over the whole workflow, loops included. */
const attempt = z.int().min(1);
const stepId = z.string().min(1).max(200);
const person = z.string().min(1).max(200);
/** 0..1, drawn by the caller: the retry waits between half and all of the backoff. */
const jitter = z.number().min(0).max(1).optional();
/** Which request of a gate visited more than once (in a loop) a click answers; the current one when left out. */
const visit = z.int().min(1).optional();

export const DEFAULT_MAX_EXECUTION_MS = 3_600_000;

export const workflowSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('template'), templateId: z.string().min(1).max(200) }),
  z.object({ kind: z.literal('plan'), planId: idField }),
]);

export const workflowCommandSchemas = {
  /** The definition was validated and compiled on registration; the decider checks it again, except for task types. */
  StartWorkflow: workflowCommand.extend({
    definition: compiledWorkflowSchema,
    inputs: z.record(z.string(), z.json()).default({}),
    requestedBy: person,
    maxExecutionMs: z
      .int()
      .positive()
      .max(7 * 86_400_000)
      .default(DEFAULT_MAX_EXECUTION_MS),
    dryRun: z.boolean().default(false),
    source: workflowSourceSchema.optional(),
    conversationId: idField.optional(),
  }),
  RecordStepStarted: workflowCommand.extend({ stepId, attempt, workerId: idField.optional() }),
  RecordStepCompleted: workflowCommand.extend({ stepId, attempt, output: z.unknown() }),
  RecordStepFailed: workflowCommand.extend({ stepId, attempt, error: taskErrorSchema, retryable: z.boolean(), jitter }),
  RecordStepTimedOut: workflowCommand.extend({ stepId, attempt, jitter }),
  /** The task running the attempt may have had side effects and ended without a known outcome: the step waits for it to be resolved. */
  RecordStepOutcomeUnknown: workflowCommand.extend({ stepId, attempt, taskId: idField }),
  GrantApproval: workflowCommand.extend({ stepId, approver: person, visit }),
  RejectApproval: workflowCommand.extend({ stepId, approver: person, reason: z.string().max(1_000).optional(), visit }),
  TimeOutApproval: workflowCommand.extend({ stepId, visit }),
  /**
   * AG5, from the engine: the step's paid run would cross a budget cap, so the step waits for a
   * cost gate (decided with GrantApproval / RejectApproval like any gate) before it is queued.
   */
  RequestCostApproval: workflowCommand.extend({
    stepId,
    attempt,
    amountUsd: z.number().positive(),
    /** Which caps it would cross, with the numbers. */
    reason: z.string().min(1).max(1_000),
    approvers: z.array(person).max(50),
    quorum: z.int().min(1).max(50),
    requesterMayApprove: z.boolean(),
    timeoutMs: z
      .int()
      .positive()
      .max(7 * 86_400_000),
    reminderBeforeMs: z.int().positive().optional(),
  }),
  /** From the scheduler at the gate's `remindAt`: the approvers are nudged once per request. */
  RemindApprovers: workflowCommand.extend({ stepId, visit }),
  CancelWorkflow: workflowCommand.extend({ reason: z.string().min(1).max(1_000), requestedBy: person }),
  TimeOutWorkflow: workflowCommand,
};

export type WorkflowCommand = CommandsOf<typeof workflowCommandSchemas>;
export type WorkflowCommandType = WorkflowCommand['type'];
export type WorkflowCommandOf<K extends WorkflowCommandType> = Extract<WorkflowCommand, { type: K }>;

export const parseWorkflowCommand = (input: unknown): Either<InvalidCommand, WorkflowCommand> => parseCommandWith(workflowCommandSchemas, input);
