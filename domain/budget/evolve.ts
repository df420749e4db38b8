import { match } from 'ts-pattern';
import { toMicros } from '../cost/usd.ts';
import type { BudgetEvent } from './events.ts';
import type { BudgetState, Reservation } from './state.ts';

export const evolve = (state: BudgetState, event: BudgetEvent): BudgetState =>
  match(event)
    .with({ type: 'BudgetCapsSet' }, ({ data }) => ({
      ...state,
      budgetId: data.budgetId,
      caps: {
        monthly: toMicros(data.monthlyUsd),
        ...(data.perWorkflowUsd !== undefined && { perWorkflow: toMicros(data.perWorkflowUsd) }),
        ...(data.perUserUsd !== undefined && { perUser: toMicros(data.perUserUsd) }),
        warningFraction: data.warningFraction,
        criticalFraction: data.criticalFraction,
      },
    }))
    .with({ type: 'CostReserved' }, ({ data }) => {
      const { [data.reservationId]: _, ...awaitingApproval } = state.awaitingApproval;
      const reservation: Reservation = {
        reservationId: data.reservationId,
        amount: toMicros(data.amountUsd),
        purpose: data.purpose,
        ...(data.workflowId !== undefined && { workflowId: data.workflowId }),
        user: data.user,
        status: 'open',
      };
      return { ...state, budgetId: data.budgetId, awaitingApproval, reservations: { ...state.reservations, [data.reservationId]: reservation } };
    })
    .with({ type: 'CostApprovalRequired' }, ({ data }) => ({
      ...state,
      budgetId: data.budgetId,
      awaitingApproval: { ...state.awaitingApproval, [data.reservationId]: toMicros(data.amountUsd) },
    }))
    .with({ type: 'CostCommitted' }, ({ data }) => settle(state, data.reservationId, (r) => ({ ...r, status: 'committed', actual: toMicros(data.actualUsd) })))
    .with({ type: 'CostReleased' }, ({ data }) => {
      const { [data.reservationId]: _, ...awaitingApproval } = state.awaitingApproval;
      return settle({ ...state, awaitingApproval }, data.reservationId, (r) => ({ ...r, status: 'released' }));
    })
    .with({ type: 'BudgetWarningReached' }, () => ({ ...state, warningReached: true }))
    .with({ type: 'BudgetCriticalReached' }, () => ({ ...state, criticalReached: true }))
    .exhaustive();

const settle = (state: BudgetState, reservationId: string, change: (r: Reservation) => Reservation): BudgetState => {
  const r = state.reservations[reservationId];
  return r === undefined ? state : { ...state, reservations: { ...state.reservations, [reservationId]: change(r) } };
};
