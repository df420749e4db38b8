import { toUsd, type Micros } from '../cost/usd.ts';
import type { CapExcess, CapKind } from './fields.ts';
import type { BudgetState, Caps, Reservation } from './state.ts';

// How much of each cap is used: committed spending plus what open reservations hold. A
// reservation that would take either past a cap crosses it.

interface Exposure {
  readonly spent: Micros;
  readonly reserved: Micros;
}

const exposureOf = (reservations: readonly Reservation[]): Exposure =>
  reservations.reduce(
    (sum, r) =>
      r.status === 'committed' ? { ...sum, spent: sum.spent + (r.actual ?? 0) } : r.status === 'open' ? { ...sum, reserved: sum.reserved + r.amount } : sum,
    { spent: 0, reserved: 0 },
  );

/** Committed spending of the whole month. */
export const monthSpent = (state: BudgetState): Micros => exposureOf(Object.values(state.reservations)).spent;

export interface CostRequest {
  readonly amount: Micros;
  readonly workflowId?: string;
  readonly user: string;
}

interface CapCheck {
  readonly cap: CapKind;
  readonly limit: Micros;
  readonly counted: readonly Reservation[];
  readonly scope?: string;
}

const checksFor = (caps: Caps, all: readonly Reservation[], request: CostRequest): CapCheck[] => [
  { cap: 'monthly', limit: caps.monthly, counted: all },
  ...(caps.perWorkflow !== undefined && request.workflowId !== undefined
    ? [{ cap: 'perWorkflow' as const, limit: caps.perWorkflow, counted: all.filter((r) => r.workflowId === request.workflowId), scope: request.workflowId }]
    : []),
  ...(caps.perUser !== undefined
    ? [{ cap: 'perUser' as const, limit: caps.perUser, counted: all.filter((r) => r.user === request.user), scope: request.user }]
    : []),
];

/** Every cap the request would cross; empty when it fits (or no caps are set). */
export function capsExceeded(state: BudgetState, request: CostRequest): CapExcess[] {
  if (state.caps === undefined) return [];
  return checksFor(state.caps, Object.values(state.reservations), request).flatMap(({ cap, limit, counted, scope }) => {
    const { spent, reserved } = exposureOf(counted);
    return spent + reserved + request.amount > limit
      ? [
          {
            cap,
            capUsd: toUsd(limit),
            spentUsd: toUsd(spent),
            reservedUsd: toUsd(reserved),
            requestedUsd: toUsd(request.amount),
            ...(scope !== undefined && { scope }),
          },
        ]
      : [];
  });
}
