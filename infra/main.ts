import { rm, writeFile } from 'node:fs/promises';
import type { NatsConnection } from 'nats';
import { embeddedUrlFile } from './cli/connect.ts';
import { ConfigError, loadConfig } from './config/load-config.ts';
import { maskUrlCredentials, type Config } from './config/schema.ts';
import { openEventStore } from './event-store.ts';
import path from 'node:path';
import pino from 'pino';
import { startConsole } from './console.ts';
import { ALL_ROLES, startRole, type Role } from './roles.ts';
import { PortNotBound, startOpsEndpoints } from './http/ops-endpoints.ts';
import { ShutdownSequence } from './shutdown.ts';
import { createLogger } from './logging.ts';
import { installProcessGuard } from './process-guard.ts';
import { connectNats } from './nats/connect-nats.ts';
import { NatsStoreInUse } from './nats/store-lock.ts';
import { EmbeddedCredentialsUnreadable } from './nats/embedded-credentials.ts';
import { InvalidNatsCredentials } from './nats/nats-auth.ts';
import { NatsServerFailedToStart, NatsServerMissing, startEmbeddedNatsServer, type EmbeddedNatsServer } from './nats/embedded-nats-server.ts';
import { secretValuesOf } from './secret-values.ts';
import { policyFor } from './policy/load-policy.ts';
import { resolvePolicyUserGroups } from './policy/slack-user-groups.ts';

/** Ctrl-C to exit: the whole product stops within this, its nats-server last. */
const SHUTDOWN_DEADLINE_MS = 3_500;

// `npm start`: every role in one process. Without NATS_URL it runs its own nats-server
// under DATA_DIR and stops it again on exit.

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const once = onceRequest(process.argv.slice(2));
  // The console chat owns the terminal when it runs; logs then go to a file beside the data.
  const console_ = config.slack ? undefined : once !== undefined ? 'once' : process.stdin.isTTY ? 'chat' : undefined;
  const logFile = path.join(config.dataDir, 'orchestrator.log');
  const logger = createLogger({
    level: config.logLevel,
    name: 'orchestrator',
    // The embedded server's passwords are not known yet on a first start; they are never logged.
    secretValues: secretValuesOf(config),
    ...(console_ ? { destination: pino.destination({ dest: logFile, mkdir: true, sync: false }) } : {}),
  });
  installProcessGuard({ logger, context: { process: 'main' } });
  // Ctrl-C ends the product in under 5 s whatever is running; an executor still running then is
  // stopped by its watchdog, and its task is handed to another worker by the queue.
  const shutdown = new ShutdownSequence(logger, { deadlineMs: SHUTDOWN_DEADLINE_MS });
  shutdown.onSignals();
  if (process.env.npm_lifecycle_event !== undefined) shutdown.onParentExit(); // started by `npm start`

  // Slack user groups named in the policy, listed once; a failure allows nobody in them (logged).
  await resolvePolicyUserGroups(config, logger).catch((error: unknown) => logger.warn({ err: error }, 'policy: Slack user groups not resolved'));
  try {
    let server: EmbeddedNatsServer | undefined;
    if (config.nats.embedded) {
      server = await startEmbeddedNatsServer({ dataDir: config.dataDir, identities: { prefix: config.prefix, producers: config.nats.apiProducers } });
      shutdown.add(() => server!.stop());
      logger.info({ url: server.url, natsPid: server.pid, storeDir: server.storeDir }, 'embedded nats-server started');
      if (server.stoppedLeftovers.length > 0) logger.warn({ pids: server.stoppedLeftovers }, 'stopped a nats-server left on this store by an earlier run');
      // Lets `orch` on this machine find the embedded server; removed again on shutdown.
      const urlFile = embeddedUrlFile(config.dataDir);
      await writeFile(urlFile, server.url);
      shutdown.add(() => rm(urlFile, { force: true }));
    }
    const servers = server ? [server.url] : config.nats.servers;
    const auth = server?.service ? ({ kind: 'user', ...server.service } as const) : config.nats.auth;
    const nc: NatsConnection = await connectNats(servers, { name: 'orchestrator', auth });
    shutdown.add(() => nc.drain());
    void nc.closed().then((error) => {
      if (!shutdown.shuttingDown) void shutdown.run(`NATS connection closed${error ? `: ${error.message}` : ''}`, 1);
    });

    const { store, description } = await openEventStore(config, nc, logger);
    shutdown.add(() => store.close());
    const roles: Role[] = config.slack ? [...ALL_ROLES, 'slack'] : [...ALL_ROLES];
    // Running tasks are handed back well inside the deadline, so the server still stops by the sequence.
    // The one HTTP server on PORT (/healthz, /readyz, /metrics, Slack's endpoint), before the roles that mount on it.
    const ops = await startOpsEndpoints({ config, nc, store, logger }, roles);
    shutdown.add(() => ops.stop());
    const context = { config, nc, store, logger, workerGraceMs: SHUTDOWN_DEADLINE_MS / 3, http: ops.http, onCommandHandled: ops.metrics.commandHandled };
    const workerStops: (() => Promise<unknown>)[] = [];
    for (const role of roles) {
      const stop = await startRole(role, context);
      if (role.startsWith('workers:')) workerStops.push(stop);
      else shutdown.add(stop);
    }
    // Pools stop side by side (first, as the newest): each waits up to a second for its queue's pending take.
    shutdown.add(() => Promise.all(workerStops.map((stop) => stop())));

    logger.info(
      {
        nats: server ? `embedded ${server.url}` : servers.map(maskUrlCredentials).join(','),
        eventStore: description,
        frontEnd: config.slack ? 'slack' : 'console',
        planner: config.anthropic.apiKey ? 'anthropic' : 'offline',
        roles,
        features: config.features,
      },
      'ready',
    );
    if (!config.slack && !console_) logger.info('console front end off: stdin is not a terminal (use --once "<request>" from scripts)');
    if (console_) {
      const frontEnd = await startConsole(context, { logFile });
      shutdown.add(async () => frontEnd.close());
      if (console_ === 'once') {
        const completed = await frontEnd.once(once!);
        await shutdown.run('--once request finished', completed ? 0 : 1);
      } else {
        await frontEnd.chat();
        await shutdown.run('console closed', 0);
      }
    }
  } catch (error) {
    if (
      error instanceof NatsServerMissing ||
      error instanceof NatsServerFailedToStart ||
      error instanceof NatsStoreInUse ||
      error instanceof EmbeddedCredentialsUnreadable ||
      error instanceof InvalidNatsCredentials ||
      error instanceof PortNotBound
    ) {
      logger.fatal(error.message);
      console.error(error.message);
    } else {
      logger.fatal({ err: error }, 'failed to start');
    }
    await shutdown.run('start-up failed', 1);
  }
}

/** `--once "<request>"`: run one request from a script and exit (0 when it completed). */
function onceRequest(args: readonly string[]): string | undefined {
  const at = args.indexOf('--once');
  if (at < 0) return undefined;
  const request = args[at + 1];
  if (!request) {
    console.error('--once needs a request, e.g. --once "git status of my-service"');
    process.exit(2);
  }
  return request;
}

function loadConfigOrExit(): Config {
  try {
    const config = loadConfig();
    // A policy file that does not read stops the start, every problem listed (it is a ConfigError).
    policyFor(config);
    return config;
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
