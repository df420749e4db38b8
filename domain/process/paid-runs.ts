import { budgetIdFor } from '../budget/period.ts';
import type { CommandAnswer, CommandIntent } from './process-manager.ts';

// AG5 for paid runs (headless Claude Code), as decisions: before a workflow step that costs money
// is queued, the most it may cost is reserved on the month's Budget under the workflow, so the
// monthly and per-workflow caps hold. Over a cap the Budget records CostApprovalRequired and the
// step waits for a cost gate; once granted, the same reservation is made again with the
// approvers' names on it. When the run ends, what it reported spending is committed; a run that
// ended without saying (failed, cancelled) is charged its ceiling, since it may have spent that
// much: never silent spend. A cost gate that ends unapproved releases what was asked for.
// Every Budget command has an id derived from the run, so sending it again changes nothing.

export interface BudgetCaps {
  readonly monthlyUsd: number;
  readonly perWorkflowUsd?: number;
  readonly warningFraction: number;
  readonly criticalFraction: number;
}

/** The deployment's prices: the most one run of a task type may cost (undefined or 0: free), and the caps to set. */
export interface PaidRunsConfig {
  readonly ceilingUsd: (taskType: string) => number | undefined;
  readonly caps?: BudgetCaps;
}

export interface PaidRun {
  readonly workflowId: string;
  readonly taskId: string;
  readonly taskType: string;
  readonly user: string;
}

/** How a reservation is asked for: refused over a cap, recorded as needing approval, or held with approvers' names. */
export type ReservationWay = { readonly ifOverCap: 'refuse' | 'askApproval'; readonly overCapApprovedBy?: string };

export const reservationOf = (taskId: string): string => `run-${taskId}`;

export const ceilingOf = (config: PaidRunsConfig | undefined, taskType: string): number | undefined => {
  const ceiling = config?.ceilingUsd(taskType);
  return ceiling !== undefined && ceiling > 0 ? ceiling : undefined;
};

export const isPaid = (config: PaidRunsConfig | undefined, taskType: string): boolean => ceilingOf(config, taskType) !== undefined;

/** Caps as a SetCaps command: the same caps always make the same command id, so sending them again is free. */
export function setCapsCommand(budgetId: string, caps: BudgetCaps) {
  const id = [caps.monthlyUsd * 1e6, (caps.perWorkflowUsd ?? 0) * 1e6, caps.warningFraction * 1e3, caps.criticalFraction * 1e3].map(Math.round).join('-');
  return {
    commandId: `caps-${budgetId}-${id}`,
    type: 'SetCaps' as const,
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

/** One command id per way of asking, so asking for approval or reserving once approved is not taken for a repeat of the refused attempt. */
export const reserveCommandId = (reservationId: string, way: ReservationWay): string =>
  `reserve-${way.overCapApprovedBy !== undefined ? 'approved-' : way.ifOverCap === 'askApproval' ? 'ask-' : ''}${reservationId}`;

/**
 * The run's ceiling held on the month's Budget (of `at`), its caps set first when configured (the
 * same caps again change nothing). The ReserveCost reply comes back to the caller: `wantsReply`.
 */
export function reserveIntents(config: PaidRunsConfig, run: PaidRun, at: string, way: ReservationWay): CommandIntent[] {
  const ceiling = ceilingOf(config, run.taskType) ?? 0;
  const budgetId = budgetIdFor(at);
  const reservationId = reservationOf(run.taskId);
  const caps: CommandIntent[] = config.caps ? [{ kind: 'command', category: 'budget', id: budgetId, ...setCapsCommand(budgetId, config.caps) }] : [];
  return [
    ...caps,
    {
      kind: 'command',
      category: 'budget',
      id: budgetId,
      commandId: reserveCommandId(reservationId, way),
      type: 'ReserveCost',
      actor: run.user,
      correlationId: run.workflowId,
      wantsReply: true,
      data: {
        reservationId,
        amountUsd: ceiling,
        purpose: `${run.taskType} run ${run.taskId}`,
        workflowId: run.workflowId,
        user: run.user,
        ifOverCap: way.ifOverCap,
        ...(way.overCapApprovedBy !== undefined ? { overCapApprovedBy: way.overCapApprovedBy } : {}),
      },
    },
  ];
}

/** What the Budget's answer to a reservation means for the run. */
export type ReservationOutcome =
  | { readonly status: 'reserved' }
  /** Over a cap and a cost gate may approve it: ask the Budget to record that approval is needed. */
  | { readonly status: 'askApproval'; readonly amountUsd: number; readonly reason: string }
  | { readonly status: 'refused'; readonly reason: string };

/** The Budget answered a reservation made the `refuse` way (or with approvers' names); `canAsk`: a cost gate is configured. */
export function reservationOutcome(config: PaidRunsConfig, taskType: string, answer: CommandAnswer, canAsk: boolean): ReservationOutcome {
  if (answer.status === 'accepted' || (answer.status === 'rejected' && answer.code === 'ReservationAlreadyExists')) return { status: 'reserved' };
  const ceiling = ceilingOf(config, taskType) ?? 0;
  const reason = `${taskType} may cost up to $${ceiling.toFixed(2)} and the budget does not allow it: ${describeReply(answer)}`;
  if (canAsk && answer.status === 'rejected' && answer.code === 'CapWouldBeExceeded')
    return { status: 'askApproval', amountUsd: ceiling, reason: answer.message };
  return { status: 'refused', reason };
}

/** After the run: its reported cost, or its ceiling when it reported none, committed on the Budget of the month it was queued in. */
export function settleIntent(
  config: PaidRunsConfig | undefined,
  run: { readonly taskId: string; readonly taskType: string; readonly queuedAt: string },
  result: unknown,
): CommandIntent | undefined {
  const ceiling = ceilingOf(config, run.taskType);
  if (ceiling === undefined) return undefined;
  const reported = (result as { costUsd?: unknown } | null | undefined)?.costUsd;
  const actualUsd = typeof reported === 'number' && Number.isFinite(reported) && reported >= 0 ? reported : ceiling;
  const reservationId = reservationOf(run.taskId);
  return {
    kind: 'command',
    category: 'budget',
    id: budgetIdFor(run.queuedAt),
    commandId: `commit-${reservationId}`,
    type: 'CommitCost',
    actor: 'orchestrator',
    data: { reservationId, actualUsd },
  };
}

/** A cost gate was rejected or timed out: the Budget's request for approval is closed, nothing held. */
export function releaseIntent(taskId: string, reason: string, at: string): CommandIntent {
  const reservationId = reservationOf(taskId);
  return {
    kind: 'command',
    category: 'budget',
    id: budgetIdFor(at),
    commandId: `release-${reservationId}`,
    type: 'ReleaseCost',
    actor: 'orchestrator',
    data: { reservationId, reason: reason.slice(0, 500) },
  };
}

/** One line for a person, as the actors' describeReply words it. */
const describeReply = (answer: CommandAnswer): string =>
  answer.status === 'accepted' ? 'accepted' : answer.status === 'invalid' ? `invalid: ${answer.errors.join('; ')}` : `${answer.code}: ${answer.message}`;
