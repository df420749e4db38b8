import type { z } from 'zod';
import { budgetCommandSchemas } from '../budget/commands.ts';
import type { BudgetRejectionCode } from '../budget/rejections.ts';
import { conversationCommandSchemas } from '../conversation/commands.ts';
import type { ConversationRejectionCode } from '../conversation/rejections.ts';
import { deliveryCommandSchemas } from '../delivery/commands.ts';
import type { DeliveryRejectionCode } from '../delivery/rejections.ts';
import { planCommandSchemas } from '../plan/commands.ts';
import type { PlanRejectionCode } from '../plan/rejections.ts';
import { taskCommandSchemas } from '../task/commands.ts';
import type { TaskRejectionCode } from '../task/rejections.ts';
import { workflowCommandSchemas } from '../workflow/commands.ts';
import type { WorkflowRejectionCode } from '../workflow/rejections.ts';

// Every aggregate's commands, as the one source both the hosts (parsing) and the senders
// (compile-time checked `send`) read. Per category: the command schemas, the field the host fills
// from the subject's id, and per command the field the host fills with the verified sender
// (who approves, who cancels): a sender never writes those.

export const commandCatalog = {
  task: { schemas: taskCommandSchemas, idField: 'taskId', actorFields: { CancelTask: 'requestedBy', ResolveTaskOutcome: 'resolvedBy' } },
  workflow: {
    schemas: workflowCommandSchemas,
    idField: 'workflowId',
    actorFields: { GrantApproval: 'approver', RejectApproval: 'approver', CancelWorkflow: 'requestedBy' },
  },
  plan: { schemas: planCommandSchemas, idField: 'planId', actorFields: { ApprovePlan: 'approver', RejectPlan: 'rejectedBy' } },
  conversation: { schemas: conversationCommandSchemas, idField: 'conversationId', actorFields: {} },
  delivery: { schemas: deliveryCommandSchemas, idField: 'deliveryId', actorFields: {} },
  budget: { schemas: budgetCommandSchemas, idField: 'budgetId', actorFields: {} },
} as const;

type Catalog = typeof commandCatalog;

/** An aggregate category that takes commands. */
export type CommandCategory = keyof Catalog;

/** The command types of one category. */
export type CommandTypeOf<C extends CommandCategory> = keyof Catalog[C]['schemas'] & string;

type ActorFieldOf<C extends CommandCategory, T extends string> = T extends keyof Catalog[C]['actorFields'] ? Catalog[C]['actorFields'][T] & string : never;

type SchemaOf<C extends CommandCategory, T extends CommandTypeOf<C>> = Catalog[C]['schemas'][T] extends z.ZodType ? Catalog[C]['schemas'][T] : never;

/**
 * What a sender writes for command `T` of category `C`: the schema's input, without what the host
 * fills in (the id from the subject, the time, the verified actor's field).
 */
export type CommandDataOf<C extends CommandCategory, T extends CommandTypeOf<C>> = T extends unknown
  ? Omit<z.input<SchemaOf<C, T>>, Catalog[C]['idField'] | 'at' | 'type' | ActorFieldOf<C, T>>
  : never;

/** One command of category `C` as `{ type, data }`: a union over its command types, each with its own data. */
export type CommandOf<C extends CommandCategory, T extends CommandTypeOf<C> = CommandTypeOf<C>> = T extends unknown
  ? { readonly type: T; readonly data: CommandDataOf<C, T> }
  : never;

/** Refusals a host answers for any category, before the aggregate decides. */
export type HostRejectionCode = 'NotFound' | 'PayloadTooLarge' | 'PayloadTooDeep' | 'UnknownCategory' | 'NotAuthorized';

/** Refusals at the door, from what only the deployment knows (infra/doors). */
export type DoorRejectionCode =
  'UnknownTaskType' | 'UnknownPool' | 'InvalidTaskParameters' | 'OutsideWorkspace' | 'ReplyTargetNotServed' | 'SideEffectsUnderstated';

interface DomainRejectionCodes {
  task: TaskRejectionCode;
  workflow: WorkflowRejectionCode;
  plan: PlanRejectionCode;
  conversation: ConversationRejectionCode;
  delivery: DeliveryRejectionCode;
  budget: BudgetRejectionCode;
}

/** Every code a `rejected` reply to a command of category `C` can carry. */
export type RejectionCodeOf<C extends CommandCategory> = DomainRejectionCodes[C] | HostRejectionCode | DoorRejectionCode;
