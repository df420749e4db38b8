import { ConfigError, loadConfig } from './config/load-config.ts';
import { connectToProduct, NoRunningProduct } from './cli/connect.ts';
import { createLogger } from './logging.ts';
import { watchConnection } from './nats/connection-watch.ts';
import { installProcessGuard } from './process-guard.ts';
import { parseRole, startRole, type Role } from './roles.ts';
import { PortNotBound, startOpsEndpoints } from './http/ops-endpoints.ts';
import { ShutdownSequence } from './shutdown.ts';
import { secretValuesOf } from './secret-values.ts';
import { policyFor } from './policy/load-policy.ts';
import { resolvePolicyUserGroups } from './policy/slack-user-groups.ts';

// Production entry: `node --import tsx infra/run-role.ts aggregates workers:local-ops ...`
// runs the named roles against NATS_URL (or the embedded server of a local `npm start`).
// It rides out broker restarts (the connection reconnects forever) and exits only when told to
// (signal: code 0) or on a fatal error (one log line saying why, non-zero code).

async function main(): Promise<void> {
  let roles: Role[];
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
    policyFor(config); // a policy file that does not read stops the start
    roles = process.argv.slice(2).map(parseRole);
    if (roles.length === 0) throw new Error('name at least one role, e.g. "workers:local-ops"');
  } catch (error) {
    console.error(`run-role: ${(error as Error).message}`);
    process.exit(2);
  }
  const logger = createLogger({ level: config.logLevel, name: `orchestrator:${roles.join('+')}`, secretValues: secretValuesOf(config) });
  installProcessGuard({ logger, context: { roles } });
  await resolvePolicyUserGroups(config, logger).catch((error: unknown) => logger.warn({ err: error }, 'policy: Slack user groups not resolved'));
  const { nc, store } = await connectToProduct(config, { kind: 'process', name: `orch-${roles.join('+')}`, logger });
  const shutdown = new ShutdownSequence(logger);
  shutdown.onSignals();
  watchConnection(
    nc,
    logger,
    (reason) => void shutdown.run(reason, 1),
    () => shutdown.shuttingDown,
  );
  shutdown.add(() => nc.drain());
  shutdown.add(() => store.close());
  // The process's HTTP server on PORT (/healthz, /readyz, /metrics, and Slack's endpoint with the slack role).
  const ops = await startOpsEndpoints({ config, nc, store, logger }, roles);
  shutdown.add(() => ops.stop());
  for (const role of roles) shutdown.add(await startRole(role, { config, nc, store, logger, http: ops.http, onCommandHandled: ops.metrics.commandHandled }));
  logger.info({ roles, pid: process.pid }, 'ready');
}

main().catch((error: unknown) => {
  if (error instanceof NoRunningProduct || error instanceof ConfigError || error instanceof PortNotBound) {
    console.error(`run-role: ${error.message}`);
    process.exit(1);
  }
  throw error;
});
