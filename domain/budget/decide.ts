import { left, right, type Either } from 'fp-ts/lib/Either.js';
import { match } from 'ts-pattern';
import type { Rejection } from '../decider.ts';
import { toMicros, toUsd } from '../cost/usd.ts';
import type { BudgetCommand, BudgetCommandOf } from './commands.ts';
import { budgetEventOf, type BudgetEvent } from './events.ts';
import { capsExceeded, monthSpent } from './exposure.ts';
import { capWouldBeExceeded, reservationAlreadyCommitted, reservationAlreadyExists, reservationAlreadyReleased, reservationNotFound } from './rejections.ts';
import type { BudgetState, Caps, Reservation } from './state.ts';
import { thresholdsReached } from './thresholds.ts';

type Decision = Either<Rejection, readonly BudgetEvent[]>;

const nothing: Decision = right([]);

export const decide = (command: BudgetCommand, state: BudgetState): Decision =>
  match(command)
    .with({ type: 'SetCaps' }, (c) => setCaps(c, state))
    .with({ type: 'ReserveCost' }, (c) => reserveCost(c, state))
    .with({ type: 'CommitCost' }, (c) => commitCost(c, state))
    .with({ type: 'ReleaseCost' }, (c) => releaseCost(c, state))
    .exhaustive();

const capsOf = (c: Omit<BudgetCommandOf<'SetCaps'>, 'type'>): Caps => ({
  monthly: toMicros(c.monthlyUsd),
  ...(c.perWorkflowUsd !== undefined && { perWorkflow: toMicros(c.perWorkflowUsd) }),
  ...(c.perUserUsd !== undefined && { perUser: toMicros(c.perUserUsd) }),
  warningFraction: c.warningFraction,
  criticalFraction: c.criticalFraction,
});

const sameCaps = (a: Caps | undefined, b: Caps): boolean =>
  a !== undefined &&
  a.monthly === b.monthly &&
  a.perWorkflow === b.perWorkflow &&
  a.perUser === b.perUser &&
  a.warningFraction === b.warningFraction &&
  a.criticalFraction === b.criticalFraction;

/** Lowering a cap below what is already spent records the thresholds it now crosses. */
const setCaps = ({ type: _, ...c }: BudgetCommandOf<'SetCaps'>, state: BudgetState): Decision => {
  const caps = capsOf(c);
  if (sameCaps(state.caps, caps)) return nothing;
  return right([budgetEventOf('BudgetCapsSet', c), ...thresholdsReached(caps, state, monthSpent(state), c.budgetId, c.at)]);
};

const sameRequest = (r: Reservation, c: { amountUsd: number; purpose: string; workflowId?: string; user: string }): boolean =>
  r.amount === toMicros(c.amountUsd) && r.purpose === c.purpose && r.workflowId === c.workflowId && r.user === c.user;

/**
 * Within every cap: reserved. Over a cap: reserved with the approver named when the command
 * carries an approval; otherwise CostApprovalRequired or CapWouldBeExceeded, as the command
 * asks. Nothing over a cap is ever reserved without a name on it.
 */
const reserveCost = ({ type: _, ifOverCap, overCapApprovedBy, ...c }: BudgetCommandOf<'ReserveCost'>, state: BudgetState): Decision => {
  const existing = state.reservations[c.reservationId];
  // Only a retry of a reservation still held changes nothing; a settled id is not reused.
  if (existing !== undefined) return existing.status === 'open' && sameRequest(existing, c) ? nothing : left(reservationAlreadyExists(existing));
  const amount = toMicros(c.amountUsd);
  const [first, ...more] = capsExceeded(state, { amount, user: c.user, ...(c.workflowId !== undefined && { workflowId: c.workflowId }) });
  if (first === undefined) return right([budgetEventOf('CostReserved', c)]);
  const exceeded = [first, ...more] as const;
  if (overCapApprovedBy !== undefined)
    return right([budgetEventOf('CostReserved', { ...c, overCap: { approvedBy: overCapApprovedBy, exceeded: [...exceeded] } })]);
  if (ifOverCap === 'refuse') return left(capWouldBeExceeded(exceeded));
  return state.awaitingApproval[c.reservationId] === amount ? nothing : right([budgetEventOf('CostApprovalRequired', { ...c, exceeded: [...exceeded] })]);
};

/** Spending is recorded as it happened, even past a cap (the call is over); the thresholds follow. */
const commitCost = ({ budgetId, reservationId, actualUsd, at }: BudgetCommandOf<'CommitCost'>, state: BudgetState): Decision => {
  const r = state.reservations[reservationId];
  if (r === undefined) return left(reservationNotFound(reservationId));
  if (r.status === 'released') return left(reservationAlreadyReleased(r));
  const actual = toMicros(actualUsd);
  if (r.status === 'committed') return r.actual === actual ? nothing : left(reservationAlreadyCommitted(r));
  const committed = budgetEventOf('CostCommitted', {
    budgetId,
    reservationId,
    reservedUsd: toUsd(r.amount),
    actualUsd: toUsd(actual),
    ...(r.workflowId !== undefined && { workflowId: r.workflowId }),
    user: r.user,
    at,
  });
  const thresholds = state.caps === undefined ? [] : thresholdsReached(state.caps, state, monthSpent(state) + actual, budgetId, at);
  return right([committed, ...thresholds]);
};

/** Also how a denied over-cap request is closed: it held nothing, and the history says it ended. */
const releaseCost = ({ budgetId, reservationId, reason, at }: BudgetCommandOf<'ReleaseCost'>, state: BudgetState): Decision => {
  const r = state.reservations[reservationId];
  const asked = state.awaitingApproval[reservationId];
  if (r === undefined) {
    return asked === undefined
      ? left(reservationNotFound(reservationId))
      : right([budgetEventOf('CostReleased', { budgetId, reservationId, amountUsd: toUsd(asked), reason, at })]);
  }
  if (r.status === 'released') return nothing;
  if (r.status === 'committed') return left(reservationAlreadyCommitted(r));
  return right([budgetEventOf('CostReleased', { budgetId, reservationId, amountUsd: toUsd(r.amount), reason, at })]);
};
