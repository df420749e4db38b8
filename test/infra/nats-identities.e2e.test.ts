import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { AckPolicy, connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCredential } from '../../infra/nats/embedded-credentials.ts';
import { startScriptProcess, type RoleProcess } from '../support/role-process.ts';

// The running product (`npm start`, embedded nats-server) as outside parties meet it: `orch nats
// credentials` hands out the consumer's and a producer's credentials; the producer sends a
// command through the gateway with plain nats.js and it is recorded as `api:<name>`; the
// consumer reads the public event with its own durable consumer; `orch` itself connects as the
// service identity; no client without a password gets in.

const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

interface Shown {
  url: string;
  user: string;
  password: string;
  inboxPrefix: string;
}

describe('NATS identities of the running product', () => {
  let dir: string;
  let product: RoleProcess;
  let env: NodeJS.ProcessEnv;
  const clients: NatsConnection[] = [];

  const orch = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [path.join(root, 'bin/orch.mjs'), ...args], { cwd: root, env });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'orch-identities-'));
    const workspace = path.join(dir, 'workspace');
    const repo = path.join(workspace, 'demo');
    await mkdir(repo, { recursive: true });
    await writeFile(path.join(repo, 'README.md'), 'demo\n');
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
    git('init', '-q');
    git('add', '.');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.invalid', 'commit', '-qm', 'init');
    // Outside producers may do nothing until the policy names them: this one may ask for read-only work.
    const policyFile = path.join(dir, 'policy.yaml');
    await writeFile(policyFile, "version: 1\nroles:\n  requester: ['*', 'api:ci']\n  deployer: ['api:ci']\n");
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: path.join(dir, 'data'),
      WORKSPACE_ROOT: workspace,
      NATS_API_PRODUCERS: 'ci',
      ORCH_POLICY_FILE: policyFile,
    };
    product = await startScriptProcess('infra/main.ts', [], { env, timeoutMs: 60_000 });
  }, 90_000);
  afterAll(async () => {
    await Promise.all(clients.map((nc) => nc.close().catch(() => undefined)));
    await product?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const credentials = async (...identity: string[]): Promise<Shown> => {
    const { code, stdout, stderr } = await orch('nats', 'credentials', ...identity, '--json');
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/secret/);
    return JSON.parse(stdout) as Shown;
  };

  it('a producer sends a command with its own credentials, the consumer reads it as a public event, orch audits it', async () => {
    const producerCredentials = await credentials('producer', 'ci');
    const consumerCredentials = await credentials('consumer');
    expect(producerCredentials).toMatchObject({ user: 'producer-ci', inboxPrefix: '_INBOX_producer-ci' });
    expect(consumerCredentials.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);

    const producer = await connect({
      servers: producerCredentials.url,
      user: producerCredentials.user,
      pass: producerCredentials.password,
      inboxPrefix: producerCredentials.inboxPrefix,
    });
    clients.push(producer);
    const taskId = `t-${crypto.randomUUID()}`;
    const command = {
      commandId: 'ci-run-1',
      type: 'QueueTask',
      actor: 'U-admin',
      data: { taskType: 'git-status', pool: 'local-ops', payload: { repository: 'demo' }, timeoutMs: 60_000, requestedBy: 'U-ci-owner' },
    };
    const reply = await producer.request(`orch.api.ci.cmd.task.${taskId}`, JSON.stringify(command), { timeout: 10_000 });
    expect(reply.json()).toMatchObject({ status: 'accepted', events: 1 });

    const consumer = await connect({
      servers: consumerCredentials.url,
      user: consumerCredentials.user,
      pass: consumerCredentials.password,
      inboxPrefix: consumerCredentials.inboxPrefix,
    });
    clients.push(consumer);
    const jsm = await consumer.jetstreamManager();
    await jsm.consumers.add('ORCH_PUBLIC_EVENTS', { durable_name: 'e2e-reader', filter_subject: 'orch.events.task.>', ack_policy: AckPolicy.Explicit });
    const reader = await consumer.jetstream().consumers.get('ORCH_PUBLIC_EVENTS', 'e2e-reader');
    const seen: string[] = [];
    const deadline = Date.now() + 20_000;
    while (!seen.includes('TaskQueued') && Date.now() < deadline) {
      for await (const message of await reader.fetch({ max_messages: 20, expires: 1_000 })) {
        const event = message.json<{ type: string; subject: string }>();
        if (event.subject === `task-${taskId}`) seen.push(event.type);
        message.ack();
      }
    }
    expect(seen).toContain('TaskQueued');
    // Read-only: the consumer's attempt to queue work is refused by the server.
    await expect(consumer.jetstream().publish('orch.work.local-ops', '{}')).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });

    // `orch` connects as the service identity, and the recorded actor is the producer's credential.
    const audit = await orch('audit', `task-${taskId}`);
    expect(audit.code, audit.stderr).toBe(0);
    expect(audit.stdout).toMatch(/TaskQueued\s+by api:ci under start\.read-only /);
    expect(audit.stdout).not.toContain('by U-admin');

    // Secrets never reach the product's log.
    for (const password of [producerCredentials.password, consumerCredentials.password]) expect(product.output()).not.toContain(password);
  }, 60_000);

  it("a client without a password, or with another identity's name, is not let in", async () => {
    const { url } = await credentials('consumer');
    await expect(connect({ servers: url, maxReconnectAttempts: 0 })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
    await expect(connect({ servers: url, user: 'service', pass: (await credentials('consumer')).password, maxReconnectAttempts: 0 })).rejects.toMatchObject({
      code: 'AUTHORIZATION_VIOLATION',
    });
  });

  it('forged and ungated actions from outside are refused with a named reason, and nothing is recorded for them', async () => {
    const producerCredentials = await credentials('producer', 'ci');
    const consumerCredentials = await credentials('consumer');
    const producer = await connect({
      servers: producerCredentials.url,
      user: producerCredentials.user,
      pass: producerCredentials.password,
      inboxPrefix: producerCredentials.inboxPrefix,
    });
    const consumer = await connect({
      servers: consumerCredentials.url,
      user: consumerCredentials.user,
      pass: consumerCredentials.password,
      inboxPrefix: consumerCredentials.inboxPrefix,
    });
    // The product's own identity, read from where the embedded server keeps it, to count what the log holds.
    const service = await readCredential(path.join(env.DATA_DIR!, 'nats'), 'service');
    const auditor = await connect({ servers: producerCredentials.url, user: service!.user, pass: service!.password });
    clients.push(producer, consumer, auditor);
    const recorded = async () => (await (await auditor.jetstreamManager()).streams.info('ORCH_EVENTS')).state.messages;
    const before = await recorded();

    const ask = async (subject: string, command: object) =>
      (await producer.request(subject, JSON.stringify(command), { timeout: 10_000 })).json<{ status: string; code?: string; message?: string }>();
    const deploy = { taskType: 'sf-deploy', pool: 'salesforce', params: { repository: 'demo', targetOrg: 'prod', mode: 'deploy' } };
    const oneStep = (sideEffects: boolean) => ({
      name: 'raw deploy',
      form: 'stateMachine',
      machine: {
        start: 'ship',
        nodes: [
          { kind: 'task', id: 'ship', ...deploy, retry: { attempts: 1, backoffMs: 0, maxBackoffMs: 0, nonRetryable: [] }, sideEffects, next: [{ to: 'done' }] },
          { kind: 'end', id: 'done', outcome: 'completed' },
        ],
      },
    });
    const refusals = {
      forgedApproval: await ask('orch.api.ci.cmd.workflow.wf-forged', {
        commandId: 'f1',
        type: 'GrantApproval',
        data: { stepId: 'approve-deploy', approver: 'U-the-approver' },
      }),
      loneDeploy: await ask(`orch.api.ci.cmd.task.t-${crypto.randomUUID()}`, {
        commandId: 'f2',
        type: 'QueueTask',
        data: { taskType: deploy.taskType, pool: deploy.pool, payload: deploy.params, timeoutMs: 60_000, requestedBy: 'U-ci-owner' },
      }),
      ungatedWorkflow: await ask(`orch.api.ci.cmd.workflow.wf-${crypto.randomUUID().slice(0, 8)}`, {
        commandId: 'f3',
        type: 'StartWorkflow',
        data: { definition: oneStep(true), requestedBy: 'U-ci-owner' },
      }),
      understatedWorkflow: await ask(`orch.api.ci.cmd.workflow.wf-${crypto.randomUUID().slice(0, 8)}`, {
        commandId: 'f4',
        type: 'StartWorkflow',
        data: { definition: oneStep(false), requestedBy: 'U-ci-owner' },
      }),
    };
    expect(refusals.forgedApproval).toMatchObject({ status: 'rejected', code: 'NotAuthorized' });
    expect(refusals.loneDeploy).toMatchObject({ status: 'rejected', code: 'NotAuthorized', message: expect.stringContaining('rule gates.required') });
    expect(refusals.ungatedWorkflow).toMatchObject({ status: 'rejected', code: 'UngatedSideEffect' });
    expect(refusals.understatedWorkflow).toMatchObject({ status: 'rejected', code: 'SideEffectsUnderstated' });

    // Straight at the product's subjects, both outside identities are stopped by the server itself.
    for (const client of [producer, consumer]) {
      await expect(client.jetstream().publish('orch.es.task.t-forged', '{}')).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
      await expect(client.jetstream().publish('orch.work.salesforce', '{}')).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
      await expect(
        client.request(
          'orch.cmd.workflow.wf-forged',
          JSON.stringify({ commandId: 'f5', type: 'GrantApproval', actor: 'U-the-approver', data: { stepId: 's' } }),
          { timeout: 3_000 },
        ),
      ).rejects.toMatchObject({ code: 'PERMISSIONS_VIOLATION' });
    }
    expect(await recorded()).toBe(before);
  }, 60_000);

  it('orch nats credentials refuses a producer that is not configured', async () => {
    const { code, stderr } = await orch('nats', 'credentials', 'producer', 'deploy-bot');
    expect(code).toBe(1);
    expect(stderr).toContain('no producer "deploy-bot"; NATS_API_PRODUCERS names ci');
  });
});
