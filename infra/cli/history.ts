import diff from 'microdiff';
import type { Decider, DomainEvent } from '../../domain/decider.ts';
import type { RecordedEvent } from '../../domain/ports/event-store.ts';

// Pure views over one stream's history for audit, replay and diff.

export interface AuditRow {
  readonly revision: string;
  readonly occurredAt: string;
  readonly type: string;
  readonly actor: string;
  /** The policy rule that allowed it, where a front door checked one. */
  readonly authorization?: string;
  readonly correlationId: string;
  readonly causationId: string;
  readonly commandId: string;
  readonly summary: string;
}

export const auditRows = (events: readonly RecordedEvent[]): AuditRow[] =>
  events.map((e) => ({
    revision: e.revision.toString(),
    occurredAt: e.metadata.occurredAt,
    type: e.type,
    actor: e.metadata.actor,
    ...(e.metadata.authorization !== undefined && { authorization: e.metadata.authorization }),
    correlationId: e.metadata.correlationId,
    causationId: e.metadata.causationId,
    commandId: e.metadata.commandId,
    summary: summarize(withoutRepeats(e)),
  }));

/** The event's data without what the row already shows: the aggregate's id and the time. */
function withoutRepeats(event: RecordedEvent): unknown {
  if (typeof event.data !== 'object' || event.data === null || Array.isArray(event.data)) return event.data;
  const id = event.stream.slice(event.stream.indexOf('-') + 1);
  return Object.fromEntries(Object.entries(event.data).filter(([, value]) => value !== id && value !== event.metadata.occurredAt));
}

export function summarize(data: unknown, width = 100): string {
  const text = JSON.stringify(data) ?? '';
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/** The aggregate's state after the event at `revision` (inclusive); the whole history when omitted. */
export function stateAt<State>(
  decider: Pick<Decider<unknown, DomainEvent, State>, 'evolve' | 'initialState'>,
  events: readonly RecordedEvent[],
  revision?: bigint,
): State {
  return events
    .filter((e) => revision === undefined || e.revision <= revision)
    .reduce((state, e) => decider.evolve(state, { type: e.type, data: e.data }), decider.initialState());
}

export interface StateChange {
  readonly kind: 'added' | 'removed' | 'changed';
  readonly path: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

/** What changed between two states, one line per leaf. */
export function stateChanges(before: unknown, after: unknown): StateChange[] {
  const plain = (value: unknown) =>
    JSON.parse(JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'null') as Record<string, unknown>;
  return diff(plain(before), plain(after)).map((d) => {
    const path = d.path.join('.');
    if (d.type === 'CREATE') return { kind: 'added', path, after: d.value };
    if (d.type === 'REMOVE') return { kind: 'removed', path, before: d.oldValue };
    return { kind: 'changed', path, before: d.oldValue, after: d.value };
  });
}
