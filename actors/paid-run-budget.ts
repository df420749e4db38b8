import type { Logger } from 'pino';
import { budgetIdFor } from '../domain/budget/period.ts';
import type { CommandClient } from './runtime/command-client.ts';
import type { CommandReply } from './runtime/command-envelope.ts';
import { accepted, describeReply, rejectedAs } from './runtime/command-replies.ts';
import { sendThatLands } from './runtime/commands-that-land.ts';

// AG5 for paid runs (headless Claude Code): before a workflow step that costs money is queued,
// the most it may cost is reserved on the month's Budget under the workflow, so the monthly and
// per-workflow caps hold. Over a cap the Budget records CostApprovalRequired and the step waits
// for a cost gate (the workflow engine asks); once granted, the same reservation is made again
// with the approvers' names on it. When the
// run ends, what it reported spending is committed; a run that ended without saying (failed,
// cancelled) is charged its ceiling, since it may have spent that much: never silent spend.

export interface BudgetCaps {
  readonly monthlyUsd: number;
  readonly perWorkflowUsd?: number;
  readonly warningFraction: number;
  readonly criticalFraction: number;
}

export interface PaidRunBudgetOptions {
  readonly commands: CommandClient;
  /** The most one run of a task type may cost in USD; undefined: it costs nothing. */
  readonly ceilingUsd: (taskType: string) => number | undefined;
  readonly caps?: BudgetCaps;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** Aborted when the process stops: a Budget command still waiting for a host gives up then. */
  readonly signal?: AbortSignal;
}

export interface PaidRun {
  readonly workflowId: string;
  readonly taskId: string;
  readonly taskType: string;
  readonly user: string;
}

/** Caps as a SetCaps command: the same caps always make the same command id, so sending them again is free. */
export function setCapsCommand(budgetId: string, caps: BudgetCaps) {
  const id = [caps.monthlyUsd * 1e6, (caps.perWorkflowUsd ?? 0) * 1e6, caps.warningFraction * 1e3, caps.criticalFraction * 1e3].map(Math.round).join('-');
  return {
    commandId: `caps-${budgetId}-${id}`,
    type: 'SetCaps',
    actor: 'orchestrator',
    data: {
      monthlyUsd: caps.monthlyUsd,
      ...(caps.perWorkflowUsd !== undefined ? { perWorkflowUsd: caps.perWorkflowUsd } : {}),
      warningFraction: caps.warningFraction,
      criticalFraction: caps.criticalFraction,
      setBy: 'configuration',
    },
  };
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
export async function reserveOnBudget(commands: CommandClient, caps: BudgetCaps | undefined, r: Reservation, logger: Logger, signal?: AbortSignal): Promise<string | undefined> {
  const reserved = await sendReservation(commands, caps, r, logger, signal, { ifOverCap: 'refuse' });
  if (accepted(reserved) || rejectedAs(reserved, 'ReservationAlreadyExists')) return undefined;
  return describeReply(reserved);
}

interface OverCap {
  readonly ifOverCap: 'refuse' | 'askApproval';
  /** The reservation crosses a cap with these people's approval (a granted cost gate). */
  readonly overCapApprovedBy?: string;
}

async function sendReservation(commands: CommandClient, caps: BudgetCaps | undefined, r: Reservation, logger: Logger, signal: AbortSignal | undefined, overCap: OverCap): Promise<CommandReply> {
  const target = { category: 'budget', id: r.budgetId };
  // Retried under the same ids until the Budget's host decides: money is never left unaccounted.
  const send = sendThatLands(commands, signal ?? new AbortController().signal, logger, 'budget');
  if (caps) {
    const set = await send(target, setCapsCommand(r.budgetId, caps));
    if (!accepted(set)) logger.warn({ budgetId: r.budgetId, reply: describeReply(set) }, 'could not set the budget caps');
  }
  // One command id per way of asking, so asking for approval or reserving once approved is not taken for a repeat of the refused attempt.
  const way = overCap.overCapApprovedBy !== undefined ? 'approved-' : overCap.ifOverCap === 'askApproval' ? 'ask-' : '';
  return send(target, {
    commandId: `reserve-${way}${r.reservationId}`,
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

/** Reserved; over a cap (CostApprovalRequired recorded, the run waits for a cost gate); or refused for another reason. */
export type RunReservation =
  | { readonly status: 'reserved' }
  | { readonly status: 'overCap'; readonly amountUsd: number; readonly reason: string }
  | { readonly status: 'refused'; readonly reason: string };

export class PaidRunBudget {
  private readonly now: () => Date;

  constructor(private readonly options: PaidRunBudgetOptions) {
    this.now = options.now ?? (() => new Date());
  }

  isPaid(taskType: string): boolean {
    return (this.options.ceilingUsd(taskType) ?? 0) > 0;
  }

  /**
   * Holds the run's ceiling. Over a cap: with `overCapApprovedBy` (a granted cost gate) it is held
   * in their names; otherwise, when `askApproval`, CostApprovalRequired is recorded and `overCap`
   * returned for the caller to open a gate, or the run is refused.
   */
  async reserve(run: PaidRun, options: { readonly askApproval?: boolean; readonly overCapApprovedBy?: string } = {}): Promise<RunReservation> {
    const ceiling = this.options.ceilingUsd(run.taskType);
    if (ceiling === undefined || ceiling <= 0) return { status: 'reserved' };
    const reservation: Reservation = {
      budgetId: budgetIdFor(this.now().toISOString()),
      reservationId: reservationOf(run.taskId),
      amountUsd: ceiling,
      purpose: `${run.taskType} run ${run.taskId}`,
      workflowId: run.workflowId,
      user: run.user,
      correlationId: run.workflowId,
    };
    const reserve = (overCap: OverCap) => sendReservation(this.options.commands, this.options.caps, reservation, this.options.logger, this.options.signal, overCap);
    const reply = await reserve({ ifOverCap: 'refuse', ...(options.overCapApprovedBy !== undefined ? { overCapApprovedBy: options.overCapApprovedBy } : {}) });
    if (accepted(reply) || rejectedAs(reply, 'ReservationAlreadyExists')) return { status: 'reserved' };
    const reason = `${run.taskType} may cost up to $${ceiling.toFixed(2)} and the budget does not allow it: ${describeReply(reply)}`;
    if (!options.askApproval || !rejectedAs(reply, 'CapWouldBeExceeded') || reply.status !== 'rejected') return { status: 'refused', reason };
    const asked = await reserve({ ifOverCap: 'askApproval' });
    if (!accepted(asked)) this.options.logger.warn({ taskId: run.taskId, reply: describeReply(asked) }, 'could not record that a paid run needs approval over the budget');
    return { status: 'overCap', amountUsd: ceiling, reason: reply.message };
  }

  /** A cost gate was rejected or timed out: the Budget's request for approval is closed, nothing held. */
  async release(run: Pick<PaidRun, 'taskId'>, reason: string): Promise<void> {
    const send = sendThatLands(this.options.commands, this.options.signal ?? new AbortController().signal, this.options.logger, 'paid-runs');
    const reply = await send(
      { category: 'budget', id: budgetIdFor(this.now().toISOString()) },
      { commandId: `release-${reservationOf(run.taskId)}`, type: 'ReleaseCost', actor: 'orchestrator', data: { reservationId: reservationOf(run.taskId), reason: reason.slice(0, 500) } },
    );
    if (!accepted(reply) && !rejectedAs(reply, 'ReservationNotFound')) this.options.logger.warn({ taskId: run.taskId, reply: describeReply(reply) }, 'could not release the cost of a refused paid run');
  }

  /** After the run: its reported cost, or its ceiling when it reported none. */
  async settle(run: Pick<PaidRun, 'taskId' | 'taskType'>, queuedAt: string, result: unknown): Promise<void> {
    const ceiling = this.options.ceilingUsd(run.taskType);
    if (ceiling === undefined || ceiling <= 0) return;
    const reported = (result as { costUsd?: unknown } | null | undefined)?.costUsd;
    const actualUsd = typeof reported === 'number' && Number.isFinite(reported) && reported >= 0 ? reported : ceiling;
    const send = sendThatLands(this.options.commands, this.options.signal ?? new AbortController().signal, this.options.logger, 'paid-runs');
    const reply = await send(
      { category: 'budget', id: budgetIdFor(queuedAt) },
      { commandId: `commit-${reservationOf(run.taskId)}`, type: 'CommitCost', actor: 'orchestrator', data: { reservationId: reservationOf(run.taskId), actualUsd } },
    );
    // Nothing reserved for it (a run queued before paid runs were budgeted): nothing to settle.
    if (!accepted(reply) && !rejectedAs(reply, 'ReservationNotFound')) this.options.logger.error({ taskId: run.taskId, reply: describeReply(reply) }, 'could not commit the cost of a paid run');
  }
}

const reservationOf = (taskId: string): string => `run-${taskId}`;
