import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import { afterAll, describe, expect, it } from 'vitest';
import { eventCatalog } from '../../domain/events/catalog.ts';
import { dataSchemaUri, schemaFileName, toPublicEvent } from '../../domain/events/cloud-event.ts';
import { eventSchemaFiles } from '../../domain/events/json-schemas.ts';
import { conversationEventSchemas } from '../../domain/conversation/events.ts';
import type { GlobalPosition, RecordedEvent } from '../../domain/ports/event-store.ts';
import { streamName } from '../../domain/streams.ts';
import { taskEventSchemas } from '../../domain/task/events.ts';
import { budgetEventSchemas } from '../../domain/budget/events.ts';
import { deliveryEventSchemas } from '../../domain/delivery/events.ts';
import { planEventSchemas } from '../../domain/plan/events.ts';
import { workflowEventSchemas } from '../../domain/workflow/events.ts';
import { checkSchemaFiles, writeSchemaFiles } from '../../infra/schemas/schema-files.ts';
import { loadPublicEventSchemas } from '../support/public-event-schemas.ts';

const recorded = (type: string, data: unknown, stream = streamName('task', 't1')): RecordedEvent => ({
  id: '0b7a3f3e-5d7c-5c1e-9f00-3c4d5e6f7a8b',
  stream,
  type,
  revision: 0n,
  position: '00000000000000000001:0000' as GlobalPosition,
  data,
  metadata: { correlationId: 'corr-1', causationId: 'cmd-1', commandId: 'cmd-1', actor: 'U1', occurredAt: '2026-11-21T10:00:00.000Z', schemaVersion: 1 },
  recordedAt: '2026-11-21T10:00:00.010Z',
});

const queued = {
  taskId: 't1',
  at: '2026-11-21T10:00:00.000Z',
  taskType: 'git-status',
  pool: 'local-ops',
  priority: 'normal',
  payload: { repository: 'r' },
  maxAttempts: 3,
  timeoutMs: 60_000,
  requestedBy: 'U1',
};

describe('event catalog', () => {
  it('holds every event type of every aggregate, in its category, at a version', () => {
    const byCategory = {
      conversation: conversationEventSchemas,
      task: taskEventSchemas,
      plan: planEventSchemas,
      workflow: workflowEventSchemas,
      budget: budgetEventSchemas,
      delivery: deliveryEventSchemas,
    };
    const expected = Object.entries(byCategory).flatMap(([category, schemas]) => Object.keys(schemas).map((t) => [t, category]));
    expect([...eventCatalog.values()].map((e) => [e.type, e.category]).sort()).toEqual(expected.sort());
    for (const entry of eventCatalog.values()) expect(entry.version).toBeGreaterThanOrEqual(1);
  });

  it('the committed schema files match what the catalog generates (run "npm run schemas" when this fails)', async () => {
    expect(await checkSchemaFiles()).toEqual([]);
  });

  it('every committed schema compiles in strict Ajv 2020 and is found by its dataschema', () => {
    const validator = loadPublicEventSchemas();
    for (const entry of eventCatalog.values()) expect(validator.schemaIds).toContain(dataSchemaUri(entry));
  });
});

describe('schema files on disk', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('reports missing and stale files, and writing fixes both', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'orch-schemas-'));
    dirs.push(dir);
    expect((await checkSchemaFiles(dir)).every((p) => p.problem === 'missing')).toBe(true);
    expect(await writeSchemaFiles(dir)).toHaveLength(eventCatalog.size);
    expect(await checkSchemaFiles(dir)).toEqual([]);
    const file = path.join(dir, 'TaskQueued.v1.json');
    await writeFile(file, (await readFile(file, 'utf8')).replace('"taskType"', '"kind"'));
    expect(await checkSchemaFiles(dir)).toEqual([{ fileName: 'TaskQueued.v1.json', problem: 'stale' }]);
    expect(await writeSchemaFiles(dir)).toEqual(['TaskQueued.v1.json']);
    expect(await checkSchemaFiles(dir)).toEqual([]);
  });

  it('names one file per event type and version', () => {
    expect(eventSchemaFiles().map((f) => f.fileName)).toEqual([...eventCatalog.values()].map(schemaFileName).sort());
  });
});

describe('public form of a recorded event', () => {
  it('is a CloudEvent carrying the event id, stream, time, metadata and data', () => {
    const result = toPublicEvent(recorded('TaskQueued', queued), 'orch://orch');
    expect(isRight(result) && result.right).toEqual({
      category: 'task',
      cloudEvent: {
        specversion: '1.0',
        id: '0b7a3f3e-5d7c-5c1e-9f00-3c4d5e6f7a8b',
        source: 'orch://orch',
        type: 'TaskQueued',
        subject: 'task-t1',
        time: '2026-11-21T10:00:00.000Z',
        datacontenttype: 'application/json',
        dataschema: 'urn:orch:event-schema:TaskQueued:v1',
        correlationid: 'corr-1',
        causationid: 'cmd-1',
        actor: 'U1',
        data: queued,
      },
    });
  });

  it('carries only the fields the schema declares', () => {
    const result = toPublicEvent(recorded('TaskQueued', { ...queued, internalNote: 'not for outside' }), 'orch://orch');
    expect(isRight(result) && result.right.cloudEvent.data).toEqual(queued);
  });

  it('does not exist for an unknown type, data that does not match, or a type in the wrong category', () => {
    expect(isLeft(toPublicEvent(recorded('ThingHappened', {}), 'orch://orch'))).toBe(true);
    const bad = toPublicEvent(recorded('TaskQueued', { ...queued, maxAttempts: 'three' }), 'orch://orch');
    expect(isLeft(bad) && bad.left).toMatch(/maxAttempts/);
    expect(isLeft(toPublicEvent(recorded('TaskQueued', queued, streamName('conversation', 'c1')), 'orch://orch'))).toBe(true);
  });

  it('passes its own schema file', () => {
    const result = toPublicEvent(recorded('TaskQueued', queued), 'orch://orch');
    expect(isRight(result) && loadPublicEventSchemas().problems(result.right.cloudEvent)).toEqual([]);
  });
});
