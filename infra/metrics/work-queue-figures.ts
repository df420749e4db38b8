import type { NatsConnection } from 'nats';

// What the work-queue stream's consumers say, one per pool and priority: items waiting to be
// taken (`num_pending`) and items taken and not yet acknowledged, i.e. running (`num_ack_pending`).
// Read from JetStream, so every process sees the whole deployment's queues.

export interface WorkQueueFigure {
  readonly pool: string;
  readonly priority: string;
  readonly waiting: number;
  readonly running: number;
}

export async function workQueueFigures(nc: NatsConnection, prefix: string): Promise<WorkQueueFigure[]> {
  const jsm = await nc.jetstreamManager();
  const subjects = `${prefix}.work.>`;
  const stream = await jsm.streams.find(subjects).catch(() => undefined);
  if (stream === undefined) return [];
  const figures: WorkQueueFigure[] = [];
  const filter = new RegExp(`^${prefix.replace(/[^A-Za-z0-9_-]/g, '\\$&')}\\.work\\.([^.]+)\\.([^.]+)$`);
  for await (const consumer of jsm.consumers.list(stream)) {
    const match = filter.exec(consumer.config.filter_subject ?? '');
    if (!match) continue;
    figures.push({ pool: match[1]!, priority: match[2]!, waiting: consumer.num_pending, running: consumer.num_ack_pending });
  }
  return figures;
}
