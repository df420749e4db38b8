import { rm, writeFile } from 'node:fs/promises';
import type { NatsConnection } from 'nats';
import { embeddedUrlFile } from './cli/connect.ts';
import { ConfigError, loadConfig } from './config/load-config.ts';
import { maskUrlCredentials, type Config } from './config/schema.ts';
import { openEventStore } from './event-store.ts';
import { ALL_ROLES, startRole } from './roles.ts';
import { ShutdownSequence } from './shutdown.ts';
import { createLogger } from './logging.ts';
import { connectNats } from './nats/connect-nats.ts';
import { NatsServerFailedToStart, NatsServerMissing, startEmbeddedNatsServer, type EmbeddedNatsServer } from './nats/embedded-nats-server.ts';

// `npm start`: every role in one process. Without NATS_URL it runs its own nats-server
// under DATA_DIR and stops it again on exit.

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.logLevel, name: 'orchestrator' });
  const shutdown = new ShutdownSequence(logger);
  shutdown.onSignals();

  try {
    let server: EmbeddedNatsServer | undefined;
    if (config.nats.embedded) {
      server = await startEmbeddedNatsServer({ dataDir: config.dataDir });
      shutdown.add(() => server!.stop());
      logger.info({ url: server.url, natsPid: server.pid, storeDir: server.storeDir }, 'embedded nats-server started');
      // Lets `orch` on this machine find the embedded server; removed again on shutdown.
      const urlFile = embeddedUrlFile(config.dataDir);
      await writeFile(urlFile, server.url);
      shutdown.add(() => rm(urlFile, { force: true }));
    }
    const servers = server ? [server.url] : config.nats.servers;
    const nc: NatsConnection = await connectNats(servers, { name: 'orchestrator' });
    shutdown.add(() => nc.drain());
    void nc.closed().then((error) => {
      if (!shutdown.shuttingDown) void shutdown.run(`NATS connection closed${error ? `: ${error.message}` : ''}`, 1);
    });

    const { store, description } = await openEventStore(config, nc);
    shutdown.add(() => store.close());
    for (const role of ALL_ROLES) shutdown.add(await startRole(role, { config, nc, store, logger }));

    logger.info(
      {
        nats: server ? `embedded ${server.url}` : servers.map(maskUrlCredentials).join(','),
        eventStore: description,
        frontEnd: config.slack ? 'slack' : 'console',
        planner: config.anthropic.apiKey ? 'anthropic' : 'offline',
        roles: ALL_ROLES,
        features: config.features,
      },
      'ready',
    );
  } catch (error) {
    if (error instanceof NatsServerMissing || error instanceof NatsServerFailedToStart) {
      logger.fatal(error.message);
      console.error(error.message);
    } else {
      logger.fatal({ err: error }, 'failed to start');
    }
    await shutdown.run('start-up failed', 1);
  }
}

function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      // One readable line, no stack trace: the operator fixes the variable and starts again.
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}

await main();
