import type { Either } from 'fp-ts/lib/Either.js';
import { z } from 'zod';
import { idField, parseCommandWith, timestampField, type CommandsOf, type InvalidCommand } from '../validation.ts';
import { approvalPolicySchema } from './approval-policy.ts';
import { approvalViaSchema, modelSpendFields, userField } from './fields.ts';
import { planSchema } from './plan-schema.ts';

// The plan inside a command has already passed validatePlan against the registry (the
// decider cannot see the registry); here it is held to the plan schema again because
// commands also arrive from outside producers.

const planCommand = z.object({ planId: idField, at: timestampField });
/** The revision the person saw; a plan amended since then cannot be decided on from an old preview. */
const revision = z.int().min(1).optional();

export const planCommandSchemas = {
  ProposePlan: planCommand.extend({
    conversationId: idField,
    requestedBy: userField,
    request: z.string().min(1).max(40_000),
    plan: planSchema,
    ...modelSpendFields,
    approval: approvalPolicySchema,
  }),
  AmendPlan: planCommand.extend({
    plan: planSchema,
    reason: z.string().min(1).max(2_000),
    amendedBy: userField,
    ...modelSpendFields,
    approval: approvalPolicySchema,
  }),
  ApprovePlan: planCommand.extend({ approver: userField, via: approvalViaSchema, revision }),
  RejectPlan: planCommand.extend({ rejectedBy: userField, reason: z.string().min(1).max(2_000), revision }),
  RecordPlanCompiled: planCommand.extend({ workflowId: idField }),
};

export type PlanCommand = CommandsOf<typeof planCommandSchemas>;
export type PlanCommandType = PlanCommand['type'];
export type PlanCommandOf<K extends PlanCommandType> = Extract<PlanCommand, { type: K }>;

export const parsePlanCommand = (input: unknown): Either<InvalidCommand, PlanCommand> => parseCommandWith(planCommandSchemas, input);
