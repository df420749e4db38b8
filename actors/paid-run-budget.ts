import type { Logger } from 'pino';
import { reserveCommandId, setCapsCommand, type BudgetCaps, type PaidRunsConfig, type ReservationWay } from '../domain/process/paid-runs.ts';
import type { CommandClient } from './runtime/command-client.ts';
import type { CommandReply } from './runtime/command-envelope.ts';
import { accepted, describeReply, rejectedAs } from './runtime/command-replies.ts';
import { sendThatLands } from './runtime/commands-that-land.ts';

// Paid runs on the Budget. The rules (reserve a workflow step's ceiling before it is queued, a cost
// gate over the cap, commit what the run reported or its ceiling, release an unapproved gate's
// request) are decisions of the workflow step runner (domain/process/paid-runs.ts); what stays
// here is the deployment's prices for it, and the planning desk's own reservation (a planner call
// reserved before it is made), sent until the Budget's host decides.

export type { BudgetCaps };
export { setCapsCommand };

export interface PaidRunBudgetOptions {
  /** The most one run of a task type may cost in USD; undefined: it costs nothing. */
  readonly ceilingUsd: (taskType: string) => number | undefined;
  readonly caps?: BudgetCaps;
}

/** The prices and caps the workflow step runner budgets paid runs with. */
export class PaidRunBudget {
  readonly config: PaidRunsConfig;

  constructor(options: PaidRunBudgetOptions) {
    this.config = { ceilingUsd: options.ceilingUsd, ...(options.caps && { caps: options.caps }) };
  }

  isPaid(taskType: string): boolean {
    return (this.config.ceilingUsd(taskType) ?? 0) > 0;
  }
}

export interface Reservation {
  readonly budgetId: string;
  readonly reservationId: string;
  readonly amountUsd: number;
  readonly purpose: string;
  readonly user: string;
  readonly workflowId?: string;
  /** The conversation or workflow the reservation belongs to. */
  readonly correlationId: string;
}

/**
 * Holds `amountUsd` on the month's Budget (its caps set first when configured: the same caps
 * again change nothing). Undefined when held, a retry included; otherwise the refusal, described.
 */
export async function reserveOnBudget(
  commands: CommandClient,
  caps: BudgetCaps | undefined,
  r: Reservation,
  logger: Logger,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const reserved = await sendReservation(commands, caps, r, logger, signal, { ifOverCap: 'refuse' });
  if (accepted(reserved) || rejectedAs(reserved, 'ReservationAlreadyExists')) return undefined;
  return describeReply(reserved);
}

type OverCap = ReservationWay;

async function sendReservation(
  commands: CommandClient,
  caps: BudgetCaps | undefined,
  r: Reservation,
  logger: Logger,
  signal: AbortSignal | undefined,
  overCap: OverCap,
): Promise<CommandReply> {
  const target = { category: 'budget', id: r.budgetId } as const;
  // Retried under the same ids until the Budget's host decides: money is never left unaccounted.
  const send = sendThatLands(commands, signal ?? new AbortController().signal, logger, 'budget');
  if (caps) {
    const set = await send(target, setCapsCommand(r.budgetId, caps));
    if (!accepted(set)) logger.warn({ budgetId: r.budgetId, reply: describeReply(set) }, 'could not set the budget caps');
  }
  return send(target, {
    commandId: reserveCommandId(r.reservationId, overCap),
    type: 'ReserveCost',
    actor: r.user,
    correlationId: r.correlationId,
    data: {
      reservationId: r.reservationId,
      amountUsd: r.amountUsd,
      purpose: r.purpose,
      ...(r.workflowId !== undefined ? { workflowId: r.workflowId } : {}),
      user: r.user,
      ifOverCap: overCap.ifOverCap,
      ...(overCap.overCapApprovedBy !== undefined ? { overCapApprovedBy: overCap.overCapApprovedBy } : {}),
    },
  });
}
