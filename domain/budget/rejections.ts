import type { Rejection } from '../decider.ts';
import { formatUsd, toUsd } from '../cost/usd.ts';
import type { CapExcess } from './fields.ts';
import type { Reservation } from './state.ts';

export type BudgetRejectionCode =
  'CapWouldBeExceeded' | 'ReservationNotFound' | 'ReservationAlreadyExists' | 'ReservationAlreadyCommitted' | 'ReservationAlreadyReleased';

export type BudgetRejection = Rejection<BudgetRejectionCode>;

/** The first cap crossed, with the numbers, and every cap crossed in `exceeded`. */
export interface CapWouldBeExceeded extends Rejection<'CapWouldBeExceeded'>, Omit<CapExcess, 'scope'> {
  readonly scope?: string;
  readonly exceeded: readonly CapExcess[];
}

const rejection = (code: BudgetRejectionCode, message: string): BudgetRejection => ({ code, message });

const capName = (e: CapExcess): string =>
  e.cap === 'monthly' ? 'the monthly cap' : e.cap === 'perWorkflow' ? `the cap of workflow ${e.scope}` : `the cap of user ${e.scope}`;

export const capWouldBeExceeded = (exceeded: readonly [CapExcess, ...CapExcess[]]): CapWouldBeExceeded => {
  const [first] = exceeded;
  return {
    code: 'CapWouldBeExceeded',
    message: exceeded
      .map(
        (e) =>
          `${formatUsd(e.requestedUsd)} would exceed ${capName(e)} of ${formatUsd(e.capUsd)} (${formatUsd(e.spentUsd)} spent, ${formatUsd(e.reservedUsd)} reserved)`,
      )
      .join('; '),
    ...first,
    exceeded,
  };
};

export const reservationNotFound = (reservationId: string): BudgetRejection =>
  rejection('ReservationNotFound', `no cost was reserved as ${reservationId} in this budget`);

export const reservationAlreadyExists = (r: Reservation): BudgetRejection =>
  rejection(
    'ReservationAlreadyExists',
    `reservation ${r.reservationId} already holds ${formatUsd(toUsd(r.amount))} for ${r.purpose} (${r.status}); use a new reservation id`,
  );

export const reservationAlreadyCommitted = (r: Reservation): BudgetRejection =>
  rejection('ReservationAlreadyCommitted', `reservation ${r.reservationId} was already committed at ${formatUsd(toUsd(r.actual ?? 0))}`);

export const reservationAlreadyReleased = (r: Reservation): BudgetRejection =>
  rejection('ReservationAlreadyReleased', `reservation ${r.reservationId} was released; nothing can be committed against it`);
