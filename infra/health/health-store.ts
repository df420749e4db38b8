import type { KV, NatsConnection } from 'nats';
import { healthReportSchema, type HealthReport } from './health-report.ts';

// Where the checker keeps its latest round (a KV document, `<prefix>_health` → `latest`) and
// where `orch health` reads it. Only the latest round is kept: history of failures belongs
// to alerts (MO3), not here.

const LATEST = 'latest';

export class HealthStore {
  private constructor(private readonly kv: KV) {}

  static async connect(nc: NatsConnection, prefix: string, options: { replicas?: number } = {}): Promise<HealthStore> {
    return new HealthStore(await nc.jetstream().views.kv(`${prefix}_health`, { history: 1, replicas: options.replicas ?? 1 }));
  }

  async save(report: HealthReport): Promise<void> {
    await this.kv.put(LATEST, JSON.stringify(report));
  }

  /** The latest round; undefined when none was recorded or what is stored does not read as one. */
  async latest(): Promise<HealthReport | undefined> {
    const entry = await this.kv.get(LATEST);
    if (!entry || entry.value.length === 0) return undefined;
    try {
      const parsed = healthReportSchema.safeParse(JSON.parse(new TextDecoder().decode(entry.value)));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }
}
