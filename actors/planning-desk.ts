import { isLeft } from 'fp-ts/lib/Either.js';
import type { Logger } from 'pino';
import { budgetIdFor } from '../domain/budget/period.ts';
import type { NotUnderstood } from '../domain/intent/index.ts';
import { approvalPolicyFor, type ApprovalPolicy, type ApprovalRules, type Plan, type RegisteredTaskType } from '../domain/plan/index.ts';
import type { Planner, PlannerError, PlanningContext } from '../domain/ports/planner.ts';
import { scrubSecretsIn } from '../domain/secrets/scrub-secrets.ts';
import { reserveOnBudget, type BudgetCaps } from './paid-run-budget.ts';
import type { AggregateStateClient } from './runtime/aggregate-state-client.ts';
import type { CommandCategory, CommandTypeOf } from '../domain/commands/catalog.ts';
import type { CommandClient, CommandTarget, TypedEnvelope } from './runtime/command-client.ts';
import { sendThatLands } from './runtime/commands-that-land.ts';
import { accepted, describeReply, rejectedAs } from './runtime/command-replies.ts';
import { mayStart, planWorkSteps, type ClassifyTask, type Policy } from '../domain/policy/index.ts';

// A request that is more than one read-only task becomes a plan (OR1, OR2, AG5): the most the
// planner's call can cost is reserved on this month's Budget first (over a cap: refused with
// the reason, never silent spend), the planner runs, what it really cost is committed (or the
// reservation released when nothing was spent, as when the API stayed overloaded), and the plan
// is proposed on its own aggregate with the approval policy worked out here, where the registry
// is known. Running it is the plan runner's business: at once when no approval is needed, on
// "Run this plan" otherwise.

export interface PlanRequest {
  readonly planId: string;
  readonly conversationId: string;
  readonly requestedBy: string;
  readonly text: string;
  readonly context: PlanningContext;
}

export type PlanningOutcome =
  | { readonly kind: 'proposed'; readonly planId: string; readonly plan: Plan; readonly approval: ApprovalPolicy }
  /** The same message again: the plan was proposed before. */
  | { readonly kind: 'duplicate'; readonly planId: string }
  | { readonly kind: 'not-understood'; readonly answer: NotUnderstood }
  | { readonly kind: 'refused'; readonly message: string };

export interface PlanningDeskOptions {
  readonly commands: CommandClient;
  /** Whether the plan exists already, from its aggregate host. */
  readonly states: AggregateStateClient;
  readonly planner: Planner;
  readonly registry: readonly RegisteredTaskType[];
  readonly approvalRules: ApprovalRules;
  /** Caps to hold the month's Budget to; none configured: spending is recorded, never capped. */
  readonly caps?: BudgetCaps;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** Aborted when the process stops; without one, a command waits at most PATIENCE_MS for a host. */
  readonly signal?: AbortSignal;
  /** Secret values to hide in the model's plan besides credential shapes (from `secretValuesOf(config)`). */
  readonly secretValues?: readonly string[];
  /** The authorization policy: a plan that runs without "Run this plan" is checked here, before it is recorded. */
  readonly policy?: { readonly rules: Policy; readonly classify: ClassifyTask };
}

/** How long a person's request waits for an aggregate host (a restart, a broker outage) before it is told. */
const PATIENCE_MS = 120_000;

export class PlanningDesk {
  private readonly now: () => Date;

  constructor(private readonly options: PlanningDeskOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** Plan and Budget commands retried under their ids until a host decides: a paid planner call is never left unrecorded. */
  private send<C extends CommandCategory, T extends CommandTypeOf<C>>(target: CommandTarget<C>, envelope: TypedEnvelope<C, T>) {
    return sendThatLands(
      this.options.commands,
      this.options.signal ?? AbortSignal.timeout(PATIENCE_MS),
      this.options.logger,
      'planning-desk',
    )(target, envelope);
  }

  async plan(request: PlanRequest): Promise<PlanningOutcome> {
    const { planner } = this.options;
    // A message taken again after a crash: the plan is there already, and planning again would be paid twice.
    const existing = await this.options.states.read('plan', request.planId);
    if (existing.status !== 'none') return { kind: 'duplicate', planId: request.planId };
    // The month the host will stamp on the reservation; a call at midnight on the 1st may land in either.
    const budgetId = budgetIdFor(this.now().toISOString());
    const reservationId = `planning-${request.planId}`;
    const ceiling = planner.costCeilingUsd(request.text, request.context);

    if (ceiling > 0) {
      const refused = await this.reserve(budgetId, reservationId, ceiling, request);
      if (refused) return { kind: 'refused', message: refused };
    }

    const produced = await planner.plan(request.text, request.context);
    if (ceiling > 0) await this.settle(budgetId, reservationId, isLeft(produced) ? spentOn(produced.left) : produced.right.costUsd);
    if (isLeft(produced)) {
      const error = produced.left;
      if (error.code === 'PlannerOutputInvalid' || error.code === 'PlannerUnavailable' || error.code === 'PlannerRequestFailed') {
        this.options.logger.warn({ planId: request.planId, code: error.code }, 'the planner produced no plan');
        return { kind: 'refused', message: `I could not make a plan: ${error.message}` };
      }
      return { kind: 'not-understood', answer: error };
    }

    const { model, usage, costUsd } = produced.right;
    // The plan is model text: nothing it echoes (a token from the request or context) is recorded (SE4).
    const plan = scrubSecretsIn(produced.right.plan, this.options.secretValues);
    const approval = approvalPolicyFor(plan, this.options.registry, this.options.approvalRules);
    // A plan that waits for "Run this plan" is checked when it is pressed; one that runs at once, now.
    const policy = this.options.policy;
    const may = policy && !approval.required ? mayStart(policy.rules, { actor: request.requestedBy, steps: planWorkSteps(plan, policy.classify) }) : undefined;
    if (may && isLeft(may)) return { kind: 'refused', message: `I made a plan, but it cannot run: NotAuthorized: ${may.left.message}` };
    const proposed = await this.send(
      { category: 'plan', id: request.planId },
      {
        commandId: `propose-${request.planId}`,
        type: 'ProposePlan',
        actor: request.requestedBy,
        correlationId: request.conversationId,
        data: { conversationId: request.conversationId, requestedBy: request.requestedBy, request: request.text, plan, model, usage, costUsd, approval },
      },
    );
    if (rejectedAs(proposed, 'PlanAlreadyProposed')) return { kind: 'duplicate', planId: request.planId };
    if (!accepted(proposed)) return { kind: 'refused', message: `I could not record the plan: ${describeReply(proposed)}` };
    return { kind: 'proposed', planId: request.planId, plan, approval };
  }

  /** Returns why the reservation was refused, or undefined when it is held. */
  private async reserve(budgetId: string, reservationId: string, amountUsd: number, request: PlanRequest): Promise<string | undefined> {
    const purpose = `planning "${request.text.slice(0, 200)}"`;
    const refused = await reserveOnBudget(
      this.options.commands,
      this.options.caps,
      { budgetId, reservationId, amountUsd, purpose, user: request.requestedBy, correlationId: request.conversationId },
      this.options.logger,
      this.options.signal ?? AbortSignal.timeout(PATIENCE_MS),
    );
    return refused === undefined ? undefined : `planning this would cost up to $${amountUsd.toFixed(2)}, and the budget does not allow it: ${refused}`;
  }

  private async settle(budgetId: string, reservationId: string, spentUsd: number): Promise<void> {
    const target = { category: 'budget', id: budgetId } as const;
    const reply =
      spentUsd > 0
        ? await this.send(target, {
            commandId: `commit-${reservationId}`,
            type: 'CommitCost',
            actor: 'orchestrator',
            data: { reservationId, actualUsd: spentUsd },
          })
        : await this.send(target, {
            commandId: `release-${reservationId}`,
            type: 'ReleaseCost',
            actor: 'orchestrator',
            data: { reservationId, reason: 'the planner call cost nothing (it failed before any tokens were used, or made no call)' },
          });
    if (!accepted(reply)) this.options.logger.error({ reservationId, reply }, 'could not settle the planning reservation');
  }
}

const spentOn = (error: PlannerError): number => ('spent' in error ? error.spent.costUsd : 0);
