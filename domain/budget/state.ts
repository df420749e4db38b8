import type { Micros } from '../cost/usd.ts';

// Amounts in state are whole micro-dollars (see cost/usd.ts); events carry USD.

export interface Caps {
  readonly monthly: Micros;
  readonly perWorkflow?: Micros;
  readonly perUser?: Micros;
  readonly warningFraction: number;
  readonly criticalFraction: number;
}

export type ReservationStatus = 'open' | 'committed' | 'released';

export interface Reservation {
  readonly reservationId: string;
  readonly amount: Micros;
  readonly purpose: string;
  readonly workflowId?: string;
  readonly user: string;
  readonly status: ReservationStatus;
  /** Set once committed. */
  readonly actual?: Micros;
}

export interface BudgetState {
  /** Unset until the first event. */
  readonly budgetId?: string;
  /** Unset until SetCaps: reservations are still recorded, none is refused. */
  readonly caps?: Caps;
  readonly reservations: Readonly<Record<string, Reservation>>;
  /** Reservations waiting for an over-cap approval, with the amount asked. */
  readonly awaitingApproval: Readonly<Record<string, Micros>>;
  readonly warningReached: boolean;
  readonly criticalReached: boolean;
}

export const initialState = (): BudgetState => ({ reservations: {}, awaitingApproval: {}, warningReached: false, criticalReached: false });
