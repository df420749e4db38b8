import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { fold } from '../../domain/decider.ts';
import {
  budgetDecider,
  budgetIdFor,
  parseBudgetCommand,
  type BudgetCommand,
  type BudgetCommandOf,
  type BudgetEvent,
  type BudgetEventData,
  type BudgetEventOf,
  type CapExcess,
  type CapWouldBeExceeded,
} from '../../domain/budget/index.ts';
import { specFor } from '../support/decider-spec.ts';

const { given } = specFor(budgetDecider);

// ── fixtures ────────────────────────────────────────────────────────────────
const budgetId = '2026-11';
const at = '2026-11-21T10:00:00.000Z';
const alice = 'U_ALICE';
const bob = 'U_BOB';

const event = <K extends BudgetEvent['type']>(type: K, data: Omit<BudgetEventData<K>, 'budgetId' | 'at'>): BudgetEventOf<K> =>
  ({ type, data: { budgetId, ...data, at } }) as BudgetEventOf<K>;
const command = <K extends BudgetCommand['type']>(type: K, fields: Omit<BudgetCommandOf<K>, 'type' | 'budgetId' | 'at'>): BudgetCommandOf<K> =>
  ({ type, budgetId, at, ...fields }) as BudgetCommandOf<K>;

const caps = { monthlyUsd: 10, perWorkflowUsd: 4, perUserUsd: 6, warningFraction: 0.8, criticalFraction: 0.95, setBy: 'U_ADMIN' };
type Spend = { id: string; usd: number; workflowId?: string; user?: string; purpose?: string };
const fields = ({ id, usd, workflowId, user = alice, purpose = 'plan a request' }: Spend) => ({
  reservationId: id,
  amountUsd: usd,
  purpose,
  ...(workflowId !== undefined && { workflowId }),
  user,
});

const capsSet = (overrides: Partial<typeof caps> = {}) => event('BudgetCapsSet', { ...caps, ...overrides });
const reserved = (spend: Spend, overCap?: { approvedBy: string; exceeded: CapExcess[] }) =>
  event('CostReserved', { ...fields(spend), ...(overCap && { overCap }) });
const approvalRequired = (spend: Spend, exceeded: CapExcess[]) => event('CostApprovalRequired', { ...fields(spend), exceeded });
const committed = ({ id, usd, workflowId, user = alice }: Spend, actualUsd = usd) =>
  event('CostCommitted', { reservationId: id, reservedUsd: usd, actualUsd, ...(workflowId !== undefined && { workflowId }), user });
const released = (id: string, amountUsd: number, reason = 'call not made') => event('CostReleased', { reservationId: id, amountUsd, reason });
const warning = (spentUsd: number, fraction: number, monthlyUsd = 10) => event('BudgetWarningReached', { spentUsd, monthlyUsd, fraction });
const critical = (spentUsd: number, fraction: number) => event('BudgetCriticalReached', { spentUsd, monthlyUsd: 10, fraction });

const setCaps = (overrides: Partial<typeof caps> = {}) => command('SetCaps', { ...caps, ...overrides });
const reserveCost = (spend: Spend, options: { ifOverCap?: 'refuse' | 'askApproval'; overCapApprovedBy?: string } = {}) =>
  command('ReserveCost', {
    ...fields(spend),
    ifOverCap: options.ifOverCap ?? 'refuse',
    ...(options.overCapApprovedBy !== undefined && { overCapApprovedBy: options.overCapApprovedBy }),
  });
const commitCost = (id: string, actualUsd: number) => command('CommitCost', { reservationId: id, actualUsd });
const releaseCost = (id: string, reason = 'call not made') => command('ReleaseCost', { reservationId: id, reason });

const monthlyExcess = (spentUsd: number, reservedUsd: number, requestedUsd: number): CapExcess => ({
  cap: 'monthly',
  capUsd: 10,
  spentUsd,
  reservedUsd,
  requestedUsd,
});

/** The CapWouldBeExceeded rejection with its numbers. */
function refusal(events: BudgetEvent[], cmd: BudgetCommand): CapWouldBeExceeded {
  const result = budgetDecider.decide(cmd, fold(budgetDecider, events));
  if (!isLeft(result) || result.left.code !== 'CapWouldBeExceeded') expect.fail('expected CapWouldBeExceeded');
  return result.left as CapWouldBeExceeded;
}

// ── rules ───────────────────────────────────────────────────────────────────
describe('SetCaps', () => {
  it('records the caps and thresholds', () => given().when(setCaps()).then(capsSet()));
  it('the same caps again change nothing', () => given(capsSet()).when(setCaps()).thenNothing());
  it('a lower cap below what is spent records the thresholds it crosses', () =>
    given(capsSet(), reserved({ id: 'r1', usd: 3 }), committed({ id: 'r1', usd: 3 }))
      .when(setCaps({ monthlyUsd: 3.5 }))
      .then(capsSet({ monthlyUsd: 3.5 }), warning(3, 0.8571, 3.5)));
  it('does not record a threshold twice in a month', () =>
    given(capsSet(), reserved({ id: 'r1', usd: 3 }), committed({ id: 'r1', usd: 3 }), capsSet({ monthlyUsd: 3.5 }), warning(3, 0.8571, 3.5))
      .when(setCaps({ monthlyUsd: 3.6 }))
      .then(capsSet({ monthlyUsd: 3.6 })));
});

describe('ReserveCost within the caps', () => {
  it('reserves', () =>
    given(capsSet())
      .when(reserveCost({ id: 'r1', usd: 2 }))
      .then(reserved({ id: 'r1', usd: 2 })));
  it('reserves up to exactly the cap', () =>
    given(capsSet(), reserved({ id: 'r1', usd: 5 }), reserved({ id: 'r2', usd: 1, user: bob }))
      .when(reserveCost({ id: 'r3', usd: 4, user: bob }))
      .then(reserved({ id: 'r3', usd: 4, user: bob })));
  it('adds cents without floating-point drift', () =>
    given(capsSet({ monthlyUsd: 0.3, perUserUsd: undefined }), reserved({ id: 'r1', usd: 0.1 }))
      .when(reserveCost({ id: 'r2', usd: 0.2 }))
      .then(reserved({ id: 'r2', usd: 0.2 })));
  it('records reservations before any caps are set (nothing to refuse against)', () =>
    given()
      .when(reserveCost({ id: 'r1', usd: 500 }))
      .then(reserved({ id: 'r1', usd: 500 })));
  it('the same reservation again changes nothing', () =>
    given(capsSet(), reserved({ id: 'r1', usd: 2 }))
      .when(reserveCost({ id: 'r1', usd: 2 }))
      .thenNothing());
  it('refuses a reservation id reused for another amount', () =>
    given(capsSet(), reserved({ id: 'r1', usd: 2 }))
      .when(reserveCost({ id: 'r1', usd: 3 }))
      .thenRejects('ReservationAlreadyExists'));
  it('refuses a released reservation id used again', () =>
    given(capsSet(), reserved({ id: 'r1', usd: 2 }), released('r1', 2))
      .when(reserveCost({ id: 'r1', usd: 2 }))
      .thenRejects('ReservationAlreadyExists'));
  it('released reservations hold nothing', () =>
    given(capsSet(), reserved({ id: 'r1', usd: 5 }), released('r1', 5), reserved({ id: 'r2', usd: 5, user: bob }))
      .when(reserveCost({ id: 'r3', usd: 5 }))
      .then(reserved({ id: 'r3', usd: 5 })));
});

describe('ReserveCost over a cap: refused', () => {
  const spentAndHeld = [capsSet(), reserved({ id: 'r1', usd: 3 }), committed({ id: 'r1', usd: 3 }), reserved({ id: 'r2', usd: 3, user: bob })];

  it('CapWouldBeExceeded when spent + reserved + requested passes the monthly cap', () =>
    given(...spentAndHeld)
      .when(reserveCost({ id: 'r3', usd: 5, user: 'U_CAROL' }))
      .thenRejects('CapWouldBeExceeded'));

  it('carries the cap, spent, reserved and requested amounts', () => {
    expect(refusal(spentAndHeld, reserveCost({ id: 'r3', usd: 5, user: 'U_CAROL' }))).toMatchObject({
      cap: 'monthly',
      capUsd: 10,
      spentUsd: 3,
      reservedUsd: 3,
      requestedUsd: 5,
      exceeded: [monthlyExcess(3, 3, 5)],
      message: '$5.00 would exceed the monthly cap of $10.00 ($3.00 spent, $3.00 reserved)',
    });
  });

  it('checks the per-workflow cap against that workflow only', () => {
    const events = [capsSet(), reserved({ id: 'r1', usd: 3, workflowId: 'W1' })];
    expect(refusal(events, reserveCost({ id: 'r2', usd: 2, workflowId: 'W1', user: bob }))).toMatchObject({
      cap: 'perWorkflow',
      scope: 'W1',
      capUsd: 4,
      reservedUsd: 3,
      requestedUsd: 2,
    });
    given(...events)
      .when(reserveCost({ id: 'r2', usd: 2, workflowId: 'W2', user: bob }))
      .then(reserved({ id: 'r2', usd: 2, workflowId: 'W2', user: bob }));
  });

  it('checks the per-user cap against that user only', () => {
    const events = [capsSet(), reserved({ id: 'r1', usd: 4 })];
    expect(refusal(events, reserveCost({ id: 'r2', usd: 3 }))).toMatchObject({ cap: 'perUser', scope: alice, capUsd: 6, reservedUsd: 4, requestedUsd: 3 });
    given(...events)
      .when(reserveCost({ id: 'r2', usd: 3, user: bob }))
      .then(reserved({ id: 'r2', usd: 3, user: bob }));
  });

  it('lists every cap crossed', () => {
    const events = [capsSet(), reserved({ id: 'r1', usd: 3.5, workflowId: 'W1' }), reserved({ id: 'r2', usd: 3.5, user: bob })];
    expect(refusal(events, reserveCost({ id: 'r3', usd: 3.5, workflowId: 'W1' })).exceeded.map((e) => e.cap)).toEqual(['monthly', 'perWorkflow', 'perUser']);
  });
});

describe('ReserveCost over a cap: approval', () => {
  const full = [capsSet(), reserved({ id: 'r1', usd: 5 }), reserved({ id: 'r2', usd: 4, user: bob })];
  const excess = [monthlyExcess(0, 9, 2)];

  it('records CostApprovalRequired when the command asks for an approval gate', () =>
    given(...full)
      .when(reserveCost({ id: 'r3', usd: 2, user: 'U_CAROL' }, { ifOverCap: 'askApproval' }))
      .then(approvalRequired({ id: 'r3', usd: 2, user: 'U_CAROL' }, excess)));

  it('asking again changes nothing', () =>
    given(...full, approvalRequired({ id: 'r3', usd: 2, user: 'U_CAROL' }, excess))
      .when(reserveCost({ id: 'r3', usd: 2, user: 'U_CAROL' }, { ifOverCap: 'askApproval' }))
      .thenNothing());

  it('reserves over the cap once approved, naming the approver and the caps crossed', () =>
    given(...full, approvalRequired({ id: 'r3', usd: 2, user: 'U_CAROL' }, excess))
      .when(reserveCost({ id: 'r3', usd: 2, user: 'U_CAROL' }, { overCapApprovedBy: 'U_ADMIN' }))
      .then(reserved({ id: 'r3', usd: 2, user: 'U_CAROL' }, { approvedBy: 'U_ADMIN', exceeded: excess })));

  it('an approval on a reservation within the caps is not recorded as over-cap', () =>
    given(capsSet())
      .when(reserveCost({ id: 'r1', usd: 1 }, { overCapApprovedBy: 'U_ADMIN' }))
      .then(reserved({ id: 'r1', usd: 1 })));
});

describe('CommitCost', () => {
  it('records what was actually spent beside what was held', () =>
    given(capsSet(), reserved({ id: 'r1', usd: 2, workflowId: 'W1' }))
      .when(commitCost('r1', 1.25))
      .then(committed({ id: 'r1', usd: 2, workflowId: 'W1' }, 1.25)));
  it('refuses an unknown reservation', () => given(capsSet()).when(commitCost('nope', 1)).thenRejects('ReservationNotFound'));
  it('the same commit again changes nothing', () =>
    given(capsSet(), reserved({ id: 'r1', usd: 2 }), committed({ id: 'r1', usd: 2 }))
      .when(commitCost('r1', 2))
      .thenNothing());
  it('refuses a second, different amount', () =>
    given(capsSet(), reserved({ id: 'r1', usd: 2 }), committed({ id: 'r1', usd: 2 }))
      .when(commitCost('r1', 3))
      .thenRejects('ReservationAlreadyCommitted'));
  it('refuses a released reservation', () =>
    given(capsSet(), reserved({ id: 'r1', usd: 2 }), released('r1', 2))
      .when(commitCost('r1', 2))
      .thenRejects('ReservationAlreadyReleased'));
  it('records the warning threshold when spending first reaches it', () =>
    given(capsSet(), reserved({ id: 'r1', usd: 5 }), committed({ id: 'r1', usd: 5 }), reserved({ id: 'r2', usd: 3, user: bob }))
      .when(commitCost('r2', 3))
      .then(committed({ id: 'r2', usd: 3, user: bob }), warning(8, 0.8)));
  it('records warning and critical together when one commit passes both', () =>
    given(
      capsSet(),
      reserved({ id: 'r1', usd: 4, workflowId: 'W1' }),
      reserved({ id: 'r2', usd: 6, user: bob }),
      committed({ id: 'r1', usd: 4, workflowId: 'W1' }),
    )
      .when(commitCost('r2', 5.6))
      .then(committed({ id: 'r2', usd: 6, user: bob }, 5.6), warning(9.6, 0.96), critical(9.6, 0.96)));
  it('records each threshold once a month', () =>
    given(
      capsSet(),
      reserved({ id: 'r1', usd: 5 }),
      reserved({ id: 'r2', usd: 3, user: bob }),
      committed({ id: 'r1', usd: 5 }),
      committed({ id: 'r2', usd: 3, user: bob }),
      warning(8, 0.8),
      reserved({ id: 'r3', usd: 1, user: bob }),
    )
      .when(commitCost('r3', 1))
      .then(committed({ id: 'r3', usd: 1, user: bob })));
  it('records an overrun past the cap as it happened (the money is spent)', () =>
    given(capsSet(), reserved({ id: 'r1', usd: 4 }))
      .when(commitCost('r1', 12))
      .then(committed({ id: 'r1', usd: 4 }, 12), warning(12, 1.2), critical(12, 1.2)));
  it('records no thresholds before caps are set', () =>
    given(reserved({ id: 'r1', usd: 50 }))
      .when(commitCost('r1', 50))
      .then(committed({ id: 'r1', usd: 50 })));
});

describe('ReleaseCost', () => {
  it('lets go of an open reservation', () =>
    given(capsSet(), reserved({ id: 'r1', usd: 2 }))
      .when(releaseCost('r1'))
      .then(released('r1', 2)));
  it('releasing again changes nothing', () =>
    given(capsSet(), reserved({ id: 'r1', usd: 2 }), released('r1', 2))
      .when(releaseCost('r1'))
      .thenNothing());
  it('refuses a committed reservation', () =>
    given(capsSet(), reserved({ id: 'r1', usd: 2 }), committed({ id: 'r1', usd: 2 }))
      .when(releaseCost('r1'))
      .thenRejects('ReservationAlreadyCommitted'));
  it('refuses an unknown reservation', () => given(capsSet()).when(releaseCost('nope')).thenRejects('ReservationNotFound'));
  it('closes an over-cap request whose approval was denied', () =>
    given(capsSet(), approvalRequired({ id: 'r9', usd: 20 }, [monthlyExcess(0, 0, 20)]))
      .when(releaseCost('r9', 'approval denied'))
      .then(released('r9', 20, 'approval denied')));
  it('after which nothing waits for approval', () => {
    const state = fold(budgetDecider, [capsSet(), approvalRequired({ id: 'r9', usd: 20 }, [monthlyExcess(0, 0, 20)]), released('r9', 20, 'approval denied')]);
    expect(state.awaitingApproval).toEqual({});
  });
});

describe('commands from outside', () => {
  it('names a budget by its month', () => {
    expect(budgetIdFor('2026-11-30T23:59:59.999Z')).toBe('2026-11');
    expect(budgetIdFor('2026-12-01T00:30:00+01:00')).toBe('2026-11');
    expect(isLeft(parseBudgetCommand({ type: 'SetCaps', budgetId: 'nov', at, monthlyUsd: 1, setBy: 'U' }))).toBe(true);
  });

  it('defaults the thresholds to 0.8 and 0.95', () => {
    const parsed = parseBudgetCommand({ type: 'SetCaps', budgetId, at, monthlyUsd: 100, setBy: 'U_ADMIN' });
    if (!isRight(parsed)) expect.fail(parsed.left.message);
    expect(parsed.right).toMatchObject({ warningFraction: 0.8, criticalFraction: 0.95 });
  });

  it('refuses a warning threshold above the critical one', () => {
    const parsed = parseBudgetCommand({ type: 'SetCaps', budgetId, at, monthlyUsd: 100, warningFraction: 0.9, criticalFraction: 0.5, setBy: 'U_ADMIN' });
    if (!isLeft(parsed)) expect.fail('expected InvalidCommand');
    expect(parsed.left.issues).toEqual(['warningFraction: warningFraction must not exceed criticalFraction']);
  });

  it('refuses zero or negative amounts and defaults to refusing over-cap spending', () => {
    expect(isLeft(parseBudgetCommand({ type: 'ReserveCost', budgetId, at, reservationId: 'r1', amountUsd: 0, purpose: 'p', user: alice }))).toBe(true);
    const parsed = parseBudgetCommand({ type: 'ReserveCost', budgetId, at, reservationId: 'r1', amountUsd: 1, purpose: 'p', user: alice });
    expect(isRight(parsed) && parsed.right).toMatchObject({ ifOverCap: 'refuse' });
  });
});
