import type { NatsConnection } from 'nats';
import { poolAndPriorityOf, workStreamName } from '../../adapters/jetstream/work-queue.ts';

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
  // No stream yet: nothing was ever queued here.
  const stream = await jsm.streams.info(workStreamName(prefix)).catch(() => undefined);
  if (stream === undefined) return [];
  const figures: WorkQueueFigure[] = [];
  for await (const consumer of jsm.consumers.list(stream.config.name)) {
    const named = poolAndPriorityOf(prefix, consumer.config.filter_subject ?? '');
    if (!named) continue;
    figures.push({ ...named, waiting: consumer.num_pending, running: consumer.num_ack_pending });
  }
  return figures;
}
