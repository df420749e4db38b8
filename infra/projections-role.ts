import { KvReadModelStorage } from '../adapters/nats/kv-read-model-storage.ts';
import { systemClock } from './system-clock.ts';
import { readModels } from '../projections/models/index.ts';
import type { ProjectionDefinition } from '../projections/runtime/projection.ts';
import { ProjectionOps } from '../projections/runtime/projection-ops.ts';
import { ProjectionSupervisor } from '../projections/runtime/projection-supervisor.ts';
import { QueryResponder } from '../projections/runtime/query-responder.ts';
import type { RoleContext } from './role-context.ts';

// The `projections` role: keeps every read model current, answers `<prefix>.query.<model>`,
// and takes rebuild requests. Run one process of it: each model has a single writer.

export async function startProjections(
  { config, nc, store, logger }: RoleContext,
  models: readonly ProjectionDefinition[] = readModels,
): Promise<() => Promise<void>> {
  const storage = await KvReadModelStorage.connect(nc, config.prefix, { replicas: config.nats.replicas });
  const log = logger.child({ role: 'projections' });
  const supervisors = models.map((definition) => new ProjectionSupervisor({ definition, store, storage, clock: systemClock, logger: log }));
  for (const supervisor of supervisors) await supervisor.start();
  const queries = new QueryResponder({
    nc,
    logger: log,
    prefix: config.prefix,
    models: models.map((m) => m.name),
    servingBucket: (model) => supervisors.find((s) => s.name === model)?.servingBucket(),
  });
  queries.start();
  const ops = new ProjectionOps(nc, supervisors, log, config.prefix);
  ops.start();
  await nc.flush();
  return async () => {
    await ops.stop();
    await queries.stop();
    await Promise.all(supervisors.map((s) => s.stop()));
  };
}
