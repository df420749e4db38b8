import type { NatsConnection } from 'nats';
import type { EventStore } from '../../domain/ports/event-store.ts';
import { streamName } from '../../domain/streams.ts';
import type { ProjectionStatus } from '../../projections/runtime/projection-status.ts';

// `/readyz`: NATS answers a round trip, the event store answers a read, and every projection
// this process serves is live, reporting, and not behind. Each probe has a deadline so a
// broker outage makes the answer 503 within seconds instead of hanging the probe.

export interface ProbeResult {
  readonly name: string;
  readonly ok: boolean;
  readonly problem?: string;
}

export interface Readiness {
  readonly ready: boolean;
  readonly checks: readonly ProbeResult[];
}

type Probe = () => Promise<ProbeResult[]>;

const PROBE_DEADLINE_MS = 2_000;
/** A live projection still reports progress every second; older than this, its process is gone or stuck. */
const PROGRESS_STALE_SECONDS = 15;
/** Behind by more than this, a projection is catching up, not caught up. */
const MAX_CAUGHT_UP_LAG_SECONDS = 30;

const withDeadline = <T>(work: Promise<T>, ms: number): Promise<T> =>
  Promise.race([work, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);

const probe =
  (name: string, check: () => Promise<unknown>): Probe =>
  async () => {
    try {
      await withDeadline(check(), PROBE_DEADLINE_MS);
      return [{ name, ok: true }];
    } catch (error) {
      return [{ name, ok: false, problem: (error as Error).message }];
    }
  };

export const natsProbe = (nc: NatsConnection): Probe =>
  probe('nats', async () => {
    if (nc.isClosed()) throw new Error('the connection is closed');
    await nc.rtt();
  });

export const eventStoreProbe = (store: EventStore): Probe => probe('event-store', () => store.read(streamName('health', 'probe'), { maxCount: 1 }));

/** One result per projection; `statuses` reads what the projections stored (see projection-status.ts). */
export const projectionsProbe =
  (statuses: () => Promise<readonly ProjectionStatus[]>, now: () => number = Date.now): Probe =>
  async () => {
    let all: readonly ProjectionStatus[];
    try {
      all = await withDeadline(statuses(), PROBE_DEADLINE_MS);
    } catch (error) {
      return [{ name: 'projections', ok: false, problem: `status unreadable: ${(error as Error).message}` }];
    }
    return all.map((s) => ({ name: `projection:${s.name}`, ...projectionProblem(s, now()) }));
  };

export function projectionProblem(status: ProjectionStatus, nowMs: number): { ok: boolean; problem?: string } {
  const m = status.serving;
  if (!m) return { ok: false, problem: 'never started' };
  if (m.state !== 'live') return { ok: false, problem: m.state };
  const age = m.reportedAt ? (nowMs - Date.parse(m.reportedAt)) / 1000 : Infinity;
  if (!(age <= PROGRESS_STALE_SECONDS)) return { ok: false, problem: `no progress report for ${Number.isFinite(age) ? `${Math.round(age)} s` : 'ever'}` };
  if (m.lagSeconds > MAX_CAUGHT_UP_LAG_SECONDS) return { ok: false, problem: `${m.lagEvents} events behind (${m.lagSeconds.toFixed(1)} s)` };
  return { ok: true };
}

export class ReadinessCheck {
  private last: { at: number; result: Promise<Readiness> } | undefined;

  constructor(private readonly probes: readonly Probe[]) {}

  /** Probes at most once a second whoever asks: load balancers and kubelets poll often. */
  check(): Promise<Readiness> {
    const now = Date.now();
    if (!this.last || now - this.last.at >= 1_000) this.last = { at: now, result: this.run() };
    return this.last.result;
  }

  private async run(): Promise<Readiness> {
    const checks = (await Promise.all(this.probes.map((p) => p()))).flat();
    return { ready: checks.every((c) => c.ok), checks };
  }
}
