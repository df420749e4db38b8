import { z } from 'zod';
import type { DomainEvent } from '../decider.ts';
import type { EventDataOf, EventsOf } from '../validation.ts';
import { approvalPolicySchema } from './approval-policy.ts';
import { approvalViaSchema, modelSpendFields } from './fields.ts';
import { planSchema } from './plan-schema.ts';

// A plan is its own history (AG2): what was asked, each version of the plan with the model
// and tokens that produced it, who decided, and the workflow it became. `revision` counts
// versions from 1; decisions name the revision they were about.

const planEvent = z.object({ planId: z.string(), at: z.string() });

export const planEventSchemas = {
  PlanProposed: planEvent.extend({
    conversationId: z.string(),
    requestedBy: z.string(),
    request: z.string(),
    revision: z.int(),
    plan: planSchema,
    ...modelSpendFields,
    approval: approvalPolicySchema,
  }),
  PlanAmended: planEvent.extend({
    revision: z.int(),
    plan: planSchema,
    reason: z.string(),
    amendedBy: z.string(),
    ...modelSpendFields,
    approval: approvalPolicySchema,
  }),
  PlanApproved: planEvent.extend({ revision: z.int(), approver: z.string(), via: approvalViaSchema }),
  PlanRejected: planEvent.extend({ revision: z.int(), rejectedBy: z.string(), reason: z.string() }),
  PlanCompiled: planEvent.extend({ revision: z.int(), workflowId: z.string() }),
};

type Schemas = typeof planEventSchemas;
export type PlanEventType = keyof Schemas;
export type PlanEventData<K extends PlanEventType> = EventDataOf<Schemas, K>;
export type PlanEventOf<K extends PlanEventType> = DomainEvent<K, PlanEventData<K>>;
export type PlanEvent = EventsOf<Schemas>;

export const planEventOf = <K extends PlanEventType>(type: K, data: PlanEventData<K>): PlanEventOf<K> => ({ type, data });
