import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import { z } from 'zod';
import { RebuildInProgress, type ProjectionSupervisor } from './projection-supervisor.ts';

// Ops requests to the projections role: `<prefix>.ops.projections.rebuild` with `{ name }`
// starts a rebuild beside the serving model and answers at once; progress is then read from
// the reported status (`orch projections status` / the rebuild command's progress bar).

const rebuildRequest = z.strictObject({ name: z.string().min(1).max(100), reason: z.string().max(500).optional() });

export type RebuildAnswer =
  | { readonly status: 'started'; readonly name: string; readonly version: number; readonly generation: number }
  | { readonly status: 'error'; readonly code: 'InvalidRequest' | 'UnknownProjection' | 'RebuildInProgress' | 'RebuildFailed'; readonly message: string };

export const rebuildSubject = (prefix: string) => `${prefix}.ops.projections.rebuild`;

export class ProjectionOps {
  private subscription: Subscription | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly supervisors: readonly ProjectionSupervisor[],
    private readonly logger: Logger,
    private readonly prefix = 'orch',
  ) {}

  start(): void {
    this.subscription = this.nc.subscribe(rebuildSubject(this.prefix), {
      queue: `${this.prefix}.projections.ops`,
      callback: (_error, message) => void this.rebuild(message.data).then((answer) => message.respond(new TextEncoder().encode(JSON.stringify(answer)))),
    });
  }

  async stop(): Promise<void> {
    await this.subscription?.drain();
  }

  private async rebuild(data: Uint8Array): Promise<RebuildAnswer> {
    let input: unknown;
    try {
      input = JSON.parse(new TextDecoder().decode(data));
    } catch {
      input = undefined;
    }
    const parsed = rebuildRequest.safeParse(input);
    if (!parsed.success) return { status: 'error', code: 'InvalidRequest', message: 'expected {"name": "<projection>"}' };
    const supervisor = this.supervisors.find((s) => s.name === parsed.data.name);
    if (!supervisor) {
      return {
        status: 'error',
        code: 'UnknownProjection',
        message: `no projection named "${parsed.data.name}"; projections: ${this.supervisors.map((s) => s.name).join(', ')}`,
      };
    }
    try {
      const ref = await supervisor.requestRebuild(parsed.data.reason ?? 'requested by ops');
      return { status: 'started', name: supervisor.name, ...ref };
    } catch (error) {
      if (error instanceof RebuildInProgress) return { status: 'error', code: 'RebuildInProgress', message: error.message };
      this.logger.error({ err: error, projection: supervisor.name }, 'rebuild could not start');
      return { status: 'error', code: 'RebuildFailed', message: (error as Error).message };
    }
  }
}
