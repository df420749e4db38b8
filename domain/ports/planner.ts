import type { Either } from 'fp-ts/lib/Either.js';
import type { ModelSpend } from '../cost/token-cost.ts';
import type { IntentContext, NotUnderstood } from '../intent/index.ts';
import type { Plan } from '../plan/plan-schema.ts';
import type { PlannerFailure } from '../plan/planner-errors.ts';

// What the conversation flow needs from a planner (OR1): a chat request in, a validated plan
// out, with the model, tokens and cost that produced it. Two adapters: Claude through the
// Messages API (adapters/anthropic) and the deterministic offline planner used without an API
// key (adapters/offline-planner).

export interface PlanningContext {
  /** The thread's Conversation context variables (`currentRepo` fills in "now run the tests"). */
  readonly variables: IntentContext;
}

/** A plan that passed the plan schema and validation against the registered task types. */
export interface ProducedPlan extends ModelSpend {
  readonly plan: Plan;
}

/** Offline, a request it has no recipe for is answered with what it can do (NotUnderstood). */
export type PlannerError = PlannerFailure | NotUnderstood;

export interface Planner {
  plan(request: string, context: PlanningContext): Promise<Either<PlannerError, ProducedPlan>>;
  /** The most one `plan` call can cost in USD, for the budget reservation made before it (AG5). */
  costCeilingUsd(request: string, context: PlanningContext): number;
}
