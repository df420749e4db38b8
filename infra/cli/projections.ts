import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { KvReadModelStorage } from '../../adapters/nats/kv-read-model-storage.ts';
import { systemClock } from '../system-clock.ts';
import { readModels } from '../../projections/models/index.ts';
import { rebuildSubject, type RebuildAnswer } from '../../projections/runtime/projection-ops.ts';
import { LAG_COUNT_CAP, projectionStatus, type ModelStatus } from '../../projections/runtime/projection-status.ts';
import { loadConfig } from '../config/load-config.ts';
import { connectToProduct } from './connect.ts';
import { UserError } from './user-error.ts';

// `orch projections status` and `orch projections rebuild <name>`.

const lag = (m: ModelStatus) => `${m.lagEvents >= LAG_COUNT_CAP ? `≥${LAG_COUNT_CAP}` : m.lagEvents} events / ${m.lagSeconds.toFixed(1)} s`;

export function registerProjectionCommands(cli: Command): void {
  const projections = cli.command('projections').description('read models: status with lag, rebuild beside the serving model');

  projections
    .command('status')
    .description('each projection: serving version and generation, state, position, lag in events and seconds, rebuild under way')
    .option('--json', 'JSON output')
    .action(async (options: { json?: boolean }) => {
      const config = loadConfig();
      const { nc, store } = await connectToProduct(config);
      try {
        const storage = await KvReadModelStorage.connect(nc, config.prefix, { replicas: config.nats.replicas });
        const statuses = await projectionStatus(readModels, storage, store, systemClock.now());
        if (options.json) return console.log(JSON.stringify(statuses, null, 2));
        for (const s of statuses) {
          if (!s.serving) {
            console.log(`${s.name.padEnd(20)} never started (code version ${s.codeVersion})`);
            continue;
          }
          const m = s.serving;
          console.log(
            `${s.name.padEnd(20)} v${m.version} g${m.generation}  ${m.state.padEnd(11)} ${String(m.eventsApplied).padStart(9)} events applied   lag ${lag(m)}`,
          );
          if (s.rebuilding) {
            const r = s.rebuilding;
            console.log(
              `${''.padEnd(20)} rebuilding v${r.version} g${r.generation} since ${r.startedAt} (${r.reason}): ${r.eventsApplied} events, ${r.rate} ev/s, lag ${lag(r)}`,
            );
          }
          if (m.version !== s.codeVersion && !s.rebuilding)
            console.log(`${''.padEnd(20)} code is at v${s.codeVersion}: restart the projections role to rebuild`);
        }
      } finally {
        await store.close();
        await nc.close();
      }
    });

  projections
    .command('rebuild')
    .description('replay every event into a new model beside the serving one, then swap; shows progress until the swap')
    .argument('<name>', `projection: ${readModels.map((m) => m.name).join(', ')}`)
    .option('--no-wait', 'start the rebuild and return')
    .action(async (name: string, options: { wait: boolean }) => {
      const config = loadConfig();
      const { nc, store } = await connectToProduct(config);
      try {
        const definition = readModels.find((m) => m.name === name);
        if (!definition) throw new UserError(`no projection named "${name}"; projections: ${readModels.map((m) => m.name).join(', ')}`);
        const storage = await KvReadModelStorage.connect(nc, config.prefix, { replicas: config.nats.replicas });
        const [before] = await projectionStatus([definition], storage, store, systemClock.now());
        let answer: RebuildAnswer;
        try {
          const reply = await nc.request(rebuildSubject(config.prefix), new TextEncoder().encode(JSON.stringify({ name })), { timeout: 10_000 });
          answer = JSON.parse(new TextDecoder().decode(reply.data)) as RebuildAnswer;
        } catch (error) {
          if ((error as { code?: string }).code === '503')
            throw new UserError('no projections process is running to rebuild it; start the product or the projections role');
          throw error;
        }
        if (answer.status === 'error') throw new UserError(answer.message);
        console.log(`rebuilding ${name} v${answer.version} as generation ${answer.generation}, beside the serving model`);
        if (!options.wait) return;
        const total = Math.max(1, (before?.serving?.eventsApplied ?? 0) + (before?.serving?.lagEvents ?? 0));
        const bar = new SingleBar({
          format: '{bar} {percentage}% | {value}/{total} events | {rate} ev/s | eta {eta}s',
          noTTYOutput: true,
          notTTYSchedule: 1_000,
          hideCursor: true,
        });
        bar.start(total, 0, { rate: 0 });
        const started = Date.now();
        for (;;) {
          await new Promise((r) => setTimeout(r, 250));
          const record = (await storage.loadRecord(name))?.record;
          const progress = await storage.loadProgress(name, answer);
          const applied = progress?.eventsApplied ?? 0;
          bar.setTotal(Math.max(total, applied));
          bar.update(applied, { rate: Math.round(applied / Math.max(0.001, (Date.now() - started) / 1000)) });
          if (record?.active.generation === answer.generation) break;
          if (!record?.rebuilding || record.rebuilding.generation !== answer.generation)
            throw new UserError('the rebuild stopped before it swapped in; see the projections process log');
        }
        bar.update(bar.getTotal());
        bar.stop();
        const seconds = (Date.now() - started) / 1000;
        const applied = (await storage.loadProgress(name, answer))?.eventsApplied ?? 0;
        console.log(
          `${name} rebuilt: ${applied} events in ${seconds.toFixed(1)} s (${Math.round(applied / seconds)} ev/s); queries now read generation ${answer.generation}`,
        );
      } finally {
        await store.close();
        await nc.close();
      }
    });
}
