import { hostname } from 'node:os';
import { RequestStrategy, type NatsConnection, type Subscription } from 'nats';
import { z } from 'zod';

// Live workers per pool. Workers have no heartbeat of their own outside the work they hold
// (in-progress acks), so each process running a `workers:<pool>` role answers a roll call on
// `<prefix>.presence.workers` with how many workers it runs; whoever asks counts the answers
// that arrive within a short wait. A process that is down or cut off does not answer, which is
// what "live" means here.

export const presenceSubject = (prefix: string): string => `${prefix}.presence.workers`;

const answerSchema = z.object({ pool: z.string().min(1).max(200), workers: z.int().min(0).max(100_000), pid: z.int(), host: z.string().max(300) });
export type PresenceAnswer = z.infer<typeof answerSchema>;

/** Answers roll calls for the workers this process runs; returns how to stop answering. */
export function answerWorkerPresence(nc: NatsConnection, prefix: string, pools: readonly { pool: string; workers: number }[]): () => Promise<void> {
  const subscriptions: Subscription[] = pools.map(({ pool, workers }) =>
    nc.subscribe(presenceSubject(prefix), {
      callback: (error, message) => {
        if (error || !message.reply) return;
        message.respond(new TextEncoder().encode(JSON.stringify({ pool, workers, pid: process.pid, host: hostname() } satisfies PresenceAnswer)));
      },
    }),
  );
  return async () => {
    await Promise.all(subscriptions.map((s) => s.drain()));
  };
}

export interface PoolPresence {
  readonly workers: number;
  readonly processes: number;
}

/** Workers that answered within `waitMs`, per pool; answers that do not read are left out. */
export async function liveWorkers(nc: NatsConnection, prefix: string, waitMs = 300): Promise<Map<string, PoolPresence>> {
  const pools = new Map<string, PoolPresence>();
  const answers = await nc.requestMany(presenceSubject(prefix), new Uint8Array(), { strategy: RequestStrategy.Timer, maxWait: waitMs }).catch(() => undefined);
  if (!answers) return pools;
  try {
    for await (const message of answers) {
      let body: unknown;
      try {
        body = JSON.parse(new TextDecoder().decode(message.data));
      } catch {
        continue;
      }
      const answer = answerSchema.safeParse(body);
      if (!answer.success) continue;
      const before = pools.get(answer.data.pool) ?? { workers: 0, processes: 0 };
      pools.set(answer.data.pool, { workers: before.workers + answer.data.workers, processes: before.processes + 1 });
    }
  } catch {
    // No responders at all ends the iteration with an error: no pool is live.
  }
  return pools;
}
