import type { NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandClient } from '../../actors/runtime/command-client.ts';
import { connectNats } from '../../infra/nats/connect-nats.ts';
import { UNHANDLED_FATAL } from '../../infra/process-guard.ts';
import { startNatsBroker, type NatsBroker } from '../support/nats-broker.ts';
import { startRoleProcess, type RoleProcess } from '../support/role-process.ts';

// A supervisor may start a role while the broker is still down (both restarting after a power
// cut): the role waits for the broker instead of exiting, and serves once it is up.

const DOWN_MS = 3_000;

let broker: NatsBroker;
let role: RoleProcess | undefined;
let nc: NatsConnection | undefined;

beforeAll(async () => {
  broker = await startNatsBroker();
  await broker.kill9();
});

afterAll(async () => {
  if (role && role.child.exitCode === null && role.child.signalCode === null) role.child.kill('SIGKILL');
  await nc?.close();
  await broker.dispose();
});

describe('a role started while the broker is down', () => {
  it('waits for the broker, then takes commands; it never exits meanwhile', async () => {
    const starting = startRoleProcess(['aggregates'], { NATS_URL: broker.url, DATA_DIR: `${broker.storeDir}-data` }, 30_000);
    await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
    await broker.restart();
    role = await starting;
    expect(role.child.exitCode).toBeNull();
    expect(role.output()).toContain('connecting to NATS');

    nc = await connectNats(broker.url);
    const reply = await new CommandClient(nc).forward({ category: 'task', id: 'probe-1' }, { commandId: 'probe-1', type: 'NoSuchCommand', actor: 'test' });
    expect(reply.status).toBe('invalid');
    expect(role.output()).not.toContain(UNHANDLED_FATAL);
  });
});
