import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { isLeft } from 'fp-ts/lib/Either.js';
import { aggregateFor } from '../../actors/aggregates/index.ts';
import type { CommandReply } from '../../actors/runtime/command-envelope.ts';
import { taskTypes } from '../../adapters/executors/registry.ts';
import { registerDefinition } from '../../domain/workflow/index.ts';
import {
  BIG_NASTY_JSON,
  badToken,
  commandSchemasByCategory,
  envelopeText,
  fieldSchema,
  fieldsOf,
  garbageText,
  hostedCategories,
  KB,
  NOT_JSON,
  nonObjectJson,
  objectText,
  randomObject,
  sample,
  SMALL_NASTY_JSON,
  unicodeId,
  WRONG_TYPES,
} from './generators.ts';
import { REPOSITORY } from './product-under-test.ts';
import type { BadInputCase } from './verdicts.ts';

// The bad commands, in families: the envelope, sizes, the subject, every field of every command
// type of every aggregate with a wrong type, and the deployment's doors. Built for a subject
// space (`orch.cmd.<category>.<id>` inside, `orch.api.<producer>.cmd.<category>.<id>` through
// the gateway) so the same commands go in both ways.

export const MAX_COMMAND_BYTES = 256 * KB;

export interface CommandCase extends BadInputCase {
  readonly subject: string;
  readonly body: string;
  /** A failure reason, or undefined when the reply is the one expected. */
  readonly check: (reply: CommandReply) => string | undefined;
  /** Not a valid subject: NATS itself refuses it (503 or a permissions violation), no product code can see it. */
  readonly natsRefuses?: true;
}

export type Family = { readonly name: string; readonly cases: readonly CommandCase[] };

let caseNumber = 0;
export const freshId = (): string => `bad-${++caseNumber}-${randomUUID().slice(0, 8)}`;
/** Where commands for `category` / `id` are sent: set by commandFamilies. */
let subjectOf = (category: string, id = freshId()): string => `orch.cmd.${category}.${id}`;

// ── what counts as a named refusal ──────────────────────────────────────────

export function refused(reply: CommandReply): string | undefined {
  if (reply.status === 'invalid')
    return Array.isArray(reply.errors) && reply.errors.length > 0 && reply.errors.every((e) => typeof e === 'string' && e.length > 0)
      ? undefined
      : 'invalid without errors';
  if (reply.status === 'rejected')
    return typeof reply.code === 'string' && reply.code.length > 0 && typeof reply.message === 'string' ? undefined : 'rejected without a code';
  if (reply.status === 'accepted') return 'accepted';
  return `${reply.status}: ${(reply as { code?: string }).code}`;
}

export const rejectedAs =
  (...codes: string[]) =>
  (reply: CommandReply): string | undefined =>
    reply.status === 'rejected' && codes.includes(reply.code)
      ? undefined
      : `expected rejected ${codes.join('|')}, got ${reply.status}${'code' in reply ? ` ${reply.code}` : ''}`;

const invalidNaming =
  (field: string) =>
  (reply: CommandReply): string | undefined =>
    refused(reply) ?? (reply.status === 'invalid' && reply.errors.some((e) => e.startsWith(field)) ? undefined : `refused without naming ${field}`);

/** Over the size limit: PayloadTooLarge, whatever the body holds. */
export const bySize = (body: string) => (Buffer.byteLength(body) > MAX_COMMAND_BYTES ? rejectedAs('PayloadTooLarge') : refused);

// ── families ────────────────────────────────────────────────────────────────

const categories = hostedCategories();
const anyCategory = (i: number): string => categories[i % categories.length]!;
const firstType = (category: string): string => Object.keys(commandSchemasByCategory[category]!)[0]!;

function envelopeFamilies(): Family[] {
  const notJson = [...NOT_JSON, ...sample(garbageText, 150, 1)].map((body, i): CommandCase => ({
    group: 'envelope: not JSON',
    name: JSON.stringify(body).slice(0, 40),
    subject: subjectOf(anyCategory(i)),
    body,
    check: refused,
  }));
  const nonObject = [
    ...sample(nonObjectJson, 150, 2).map((v) => JSON.stringify(v)),
    ...SMALL_NASTY_JSON.filter((v) => !v.json.startsWith('{')).map((v) => v.json),
  ].map((body, i): CommandCase => ({
    group: 'envelope: JSON but not an object',
    name: body.slice(0, 40),
    subject: subjectOf(anyCategory(i)),
    body,
    check: refused,
  }));
  const randomEnvelopes = sample(randomObject, 150, 3).map((o, i): CommandCase => ({
    group: 'envelope: random object',
    name: JSON.stringify(o).slice(0, 60),
    subject: subjectOf(anyCategory(i)),
    body: JSON.stringify(o),
    check: refused,
  }));
  const base = { commandId: 'c1', type: 'X', actor: 'U-bad', data: '{}' };
  const wrongFields: CommandCase[] = [];
  for (const category of categories) {
    const type = firstType(category);
    for (const field of ['commandId', 'type', 'actor', 'data', 'correlationId', 'causationId']) {
      for (const wrong of WRONG_TYPES) {
        const fields: Record<string, string> = {
          commandId: JSON.stringify(freshId()),
          type: JSON.stringify(type),
          actor: JSON.stringify(base.actor),
          data: '{}',
          [field]: wrong.json,
        };
        wrongFields.push({
          group: 'envelope: a field of the wrong type',
          name: `${category} ${field} = ${wrong.name}`,
          subject: subjectOf(category),
          body: objectText(fields),
          check: refused,
        });
      }
    }
  }
  const tokens = sample(fc.tuple(fc.constantFrom('commandId', 'correlationId', 'causationId'), badToken), 150, 4).map(([field, token], i): CommandCase => {
    const category = anyCategory(i);
    const body = envelopeText({ commandId: freshId(), type: firstType(category), actor: 'U-bad', data: '{}', extra: { [field]: JSON.stringify(token) } });
    return {
      group: 'envelope: id token with . * > or white space, empty or too long',
      name: `${field} = ${JSON.stringify(token).slice(0, 30)}`,
      subject: subjectOf(category),
      body,
      check: invalidNaming(field),
    };
  });
  const typeNames = [
    'queueTask',
    'QUEUE_TASK',
    'NoSuchCommand',
    'Constructor',
    'ToString',
    'HasOwnProperty',
    'ValueOf',
    'Prototype',
    'QueueTask ',
    ' QueueTask',
    'Queue.Task',
    '',
    '__proto__',
    'constructor',
    'toString',
  ];
  const types = categories.flatMap((category) =>
    typeNames.map((type): CommandCase => ({
      group: 'envelope: unknown or malformed command type',
      name: `${category} ${JSON.stringify(type)}`,
      subject: subjectOf(category),
      body: envelopeText({ commandId: freshId(), type, actor: 'U-bad', data: '{}' }),
      check: refused,
    })),
  );
  const actors = categories.flatMap((category) =>
    ['""', '"' + 'a'.repeat(201) + '"', 'null', '42', '["U1"]', '{"id":"U1"}'].map((actor): CommandCase => ({
      group: 'envelope: actor empty, too long or not a string',
      name: `${category} actor ${actor.slice(0, 20)}`,
      subject: subjectOf(category),
      body: objectText({ commandId: JSON.stringify(freshId()), type: JSON.stringify(firstType(category)), actor, data: '{}' }),
      check: refused,
    })),
  );
  const pollution = categories.flatMap((category) =>
    [
      `{"__proto__":{"commandId":"c","type":"${firstType(category)}","actor":"U","data":{}}}`,
      `{"constructor":{"prototype":{"commandId":"c","type":"${firstType(category)}","actor":"U"}}}`,
      envelopeText({ commandId: freshId(), type: firstType(category), actor: 'U-bad', data: '{"__proto__":{"polluted":true,"taskType":"git-status"}}' }),
      envelopeText({ commandId: freshId(), type: firstType(category), actor: 'U-bad', data: '{"constructor":{"prototype":{"polluted":true}}}' }),
    ].map((body, i): CommandCase => ({
      group: 'envelope: prototype-pollution keys',
      name: `${category} #${i}`,
      subject: subjectOf(category),
      body,
      check: refused,
    })),
  );
  return [{ name: 'envelope', cases: [...notJson, ...nonObject, ...randomEnvelopes, ...wrongFields, ...tokens, ...types, ...actors, ...pollution] }];
}

function sizeFamily(): Family {
  const cases: CommandCase[] = [];
  for (const [i, big] of BIG_NASTY_JSON.entries()) {
    const category = anyCategory(i);
    cases.push({ group: 'size and depth: the whole body', name: big.name, subject: subjectOf(category), body: big.json, check: bySize(big.json) });
    const asData = envelopeText({ commandId: freshId(), type: firstType(category), actor: 'U-bad', data: objectText({ payload: big.json }) });
    cases.push({ group: 'size and depth: inside data', name: big.name, subject: subjectOf(category), body: asData, check: bySize(asData) });
  }
  for (const bytes of [257 * KB, 300 * KB, 1_000_000, 4 * 1024 * KB]) {
    const body = JSON.stringify({
      commandId: freshId(),
      type: 'QueueTask',
      actor: 'U-bad',
      data: {
        taskType: 'git-status',
        pool: 'local-ops',
        payload: { repository: REPOSITORY, padding: 'x'.repeat(bytes) },
        timeoutMs: 60_000,
        requestedBy: 'U-bad',
      },
    });
    cases.push({
      group: 'size and depth: a well-formed QueueTask over 256 KB',
      name: `${Math.round(bytes / KB)} KB`,
      subject: subjectOf('task'),
      body,
      check: rejectedAs('PayloadTooLarge'),
    });
  }
  // Deep JSON where a command takes free-form JSON, the rest of it valid: parsers and stores
  // that recurse (schema checks of JSON values, JSON.stringify on the way to the store) meet it.
  const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  for (const depth of [5_000, 100_000]) {
    const valid = (type: string, data: string) => `{"commandId":${JSON.stringify(freshId())},"type":"${type}","actor":"U-bad","data":${data}}`;
    const free: [string, string, string][] = [
      [
        'task',
        'QueueTask payload',
        valid(
          'QueueTask',
          `{"taskType":"git-status","pool":"local-ops","timeoutMs":60000,"requestedBy":"U-bad","payload":{"repository":"${REPOSITORY}","extra":${deep(depth)}}}`,
        ),
      ],
      ['task', 'CompleteTask result', valid('CompleteTask', `{"attempt":1,"durationMs":1,"result":${deep(depth)}}`)],
      ['conversation', 'AddMessage metadata', valid('AddMessage', `{"messageId":"m1","role":"user","text":"hi","metadata":{"deep":${deep(depth)}}}`)],
      ['conversation', 'SetContextVariable value', valid('SetContextVariable', `{"name":"currentRepo","value":${deep(depth)}}`)],
      ['workflow', 'RecordStepCompleted output', valid('RecordStepCompleted', `{"stepId":"s","attempt":1,"output":${deep(depth)}}`)],
      [
        'workflow',
        'StartWorkflow inputs',
        valid(
          'StartWorkflow',
          `{"definition":${JSON.stringify(workflowOf([{ type: 'task', id: 'status', taskType: 'git-status', params: { repository: REPOSITORY } }], taskTypes))},"requestedBy":"U-bad","inputs":{"deep":${deep(depth)}}}`,
        ),
      ],
    ];
    for (const [category, field, body] of free)
      cases.push({
        group: `size and depth: ${depth.toLocaleString('en')}-deep JSON in a free-form field of a valid command`,
        name: field,
        subject: subjectOf(category),
        body,
        check: bySize(body),
      });
  }
  return { name: 'size and depth', cases };
}

function subjectFamily(): Family {
  const body = (category: string) => envelopeText({ commandId: freshId(), type: firstType(category), actor: 'U-bad', data: '{}' });
  const cases: CommandCase[] = [];
  for (const category of categories) {
    for (const id of ['*', '>'])
      cases.push({ group: 'subject: wildcard as the id', name: `${category}.${id}`, subject: subjectOf(category, id), body: body(category), check: refused });
    cases.push({ group: 'subject: id of 201 characters', name: category, subject: subjectOf(category, 'i'.repeat(201)), body: body(category), check: refused });
  }
  for (const [i, id] of sample(unicodeId, 60, 5).entries()) {
    const category = anyCategory(i);
    cases.push({ group: 'subject: unicode and emoji ids', name: `${category}.${id}`, subject: subjectOf(category, id), body: body(category), check: refused });
  }
  for (const [i, id] of ['a.b', 'x.y.z', 'task.1'].entries()) {
    const category = anyCategory(i);
    cases.push({
      group: 'subject: id with "." (more subject tokens)',
      name: `${category}.${id}`,
      subject: subjectOf(category, id),
      body: body(category),
      check: refused,
    });
  }
  // An empty token makes it no NATS subject at all: no subscription can match it, so no product
  // code can answer; NATS does (no responders on an open server, a permissions violation with identities).
  for (const [i, id] of ['..', 'a..b', 'a.'].entries()) {
    const category = anyCategory(i);
    cases.push({
      group: 'subject: an empty token (not a NATS subject; NATS refuses it)',
      name: `${category}.${id}`,
      subject: subjectOf(category, id),
      body: body(category),
      check: refused,
      natsRefuses: true,
    });
  }
  const unknown = ['nosuch', 'Task', 'tasks', 'events', '__proto__', 'constructor', '🚀', 'x'.repeat(100)];
  for (const category of unknown) {
    const valid = JSON.stringify({
      commandId: freshId(),
      type: 'QueueTask',
      actor: 'U-bad',
      data: { taskType: 'git-status', pool: 'local-ops', payload: { repository: REPOSITORY }, timeoutMs: 60_000, requestedBy: 'U-bad' },
    });
    cases.push({
      group: 'subject: unknown category',
      name: category.slice(0, 20),
      subject: subjectOf(category),
      body: valid,
      check: rejectedAs('UnknownCategory'),
    });
  }
  return { name: 'subject', cases };
}

/** Every field of every command type of every aggregate, given each wrong type its schema refuses. */
function commandFieldsFamily(): Family {
  const cases: CommandCase[] = [];
  const at = new Date().toISOString();
  for (const category of categories) {
    const definition = aggregateFor(category)!;
    for (const [type, schema] of Object.entries(commandSchemasByCategory[category]!)) {
      for (const field of fieldsOf(schema)) {
        for (const wrong of WRONG_TYPES) {
          const value: unknown = JSON.parse(wrong.json);
          if (fieldSchema(schema, field)?.safeParse(value).success) continue; // a value this field takes is no wrong type
          // The host fills the id, the time and who acted; a field it overrides cannot be wrong.
          const local = definition.parseCommand({
            type,
            id: 'x',
            at,
            data: JSON.parse(`{${JSON.stringify(field)}:${wrong.json}}`) as Record<string, unknown>,
            actor: 'U-bad',
          });
          if (!isLeft(local) || !local.left.some((e) => e.startsWith(field))) continue;
          const body = envelopeText({ commandId: freshId(), type, actor: 'U-bad', data: `{${JSON.stringify(field)}:${wrong.json}}` });
          cases.push({
            group: 'command: a field of the wrong type (every field of every command type)',
            name: `${category} ${type}.${field} = ${wrong.name}`,
            subject: subjectOf(category),
            body,
            check: invalidNaming(field),
          });
        }
      }
      for (const [i, data] of sample(randomObject, 8, type.length * 31 + category.length).entries()) {
        cases.push({
          group: 'command: random data',
          name: `${category} ${type} #${i}`,
          subject: subjectOf(category),
          body: envelopeText({ commandId: freshId(), type, actor: 'U-bad', data: JSON.stringify(data) }),
          check: refused,
        });
      }
      for (const nasty of SMALL_NASTY_JSON) {
        if (nasty.json.startsWith('{')) continue;
        cases.push({
          group: 'command: data not an object',
          name: `${category} ${type} data = ${nasty.name}`,
          subject: subjectOf(category),
          body: envelopeText({ commandId: freshId(), type, actor: 'U-bad', data: nasty.json }),
          check: refused,
        });
      }
      cases.push({
        group: 'command: no data (a non-creating command on no stream, or missing fields)',
        name: `${category} ${type}`,
        subject: subjectOf(category),
        body: envelopeText({ commandId: freshId(), type, actor: 'U-bad' }),
        check: refused,
      });
    }
  }
  return { name: 'command fields', cases };
}

export const validQueueTask = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  taskType: 'git-status',
  pool: 'local-ops',
  payload: { repository: REPOSITORY },
  timeoutMs: 60_000,
  requestedBy: 'U-bad',
  replyTo: { kind: 'nats', subject: 'bad.input.replies' },
  ...overrides,
});

function workflowOf(steps: readonly Record<string, unknown>[], taskTypesKnown: readonly string[]) {
  const compiled = registerDefinition({ form: 'stepTree', name: 'bad-input workflow', root: { type: 'sequence', steps } }, { taskTypes: taskTypesKnown });
  if (isLeft(compiled)) throw new Error(compiled.left.map((e) => e.message).join('; '));
  return compiled.right;
}

/** Well-formed commands the deployment cannot serve: refused at the door with a named reason. */
function doorFamily(): Family {
  const cases: CommandCase[] = [];
  const queue = (group: string, name: string, data: Record<string, unknown>, check: CommandCase['check']) =>
    cases.push({ group, name, subject: subjectOf('task'), body: JSON.stringify({ commandId: freshId(), type: 'QueueTask', actor: 'U-bad', data }), check });
  const unknownTypes = sample(
    fc.stringMatching(/^[a-z][a-z0-9]{0,12}(-[a-z0-9]{1,8})?$/).filter((t) => !(taskTypes as readonly string[]).includes(t)),
    30,
    6,
  );
  for (const taskType of ['no-such-type', 'rm-rf', 'shell', ...unknownTypes])
    queue('door: QueueTask of an unknown task type', taskType, validQueueTask({ taskType }), rejectedAs('UnknownTaskType'));
  for (const pool of ['salesforce', 'claude', 'nowhere', 'local_ops', ...sample(unicodeId, 20, 7)])
    queue('door: QueueTask for a pool that does not run it', pool, validQueueTask({ pool }), rejectedAs('UnknownPool'));
  const escapes = ['../../etc', '..', '/etc', '/', 'acme/../../..', '../acme', '~/secrets', 'acme/../../../etc/passwd'];
  for (const repository of escapes)
    queue(
      'door: QueueTask whose repository escapes the workspace',
      repository,
      validQueueTask({ payload: { repository } }),
      rejectedAs('OutsideWorkspace', 'InvalidTaskParameters'),
    );
  for (const payload of [
    null,
    42,
    'acme',
    [],
    {},
    { repository: 42 },
    { repository: '' },
    { repository: null },
    { repository: ['acme'] },
    { repository: 'a'.repeat(5_000) },
    { repository: 'acme\u0000' },
  ]) {
    queue(
      'door: QueueTask whose payload its executor refuses',
      JSON.stringify(payload).slice(0, 30),
      validQueueTask({ payload }),
      rejectedAs('InvalidTaskParameters'),
    );
  }
  for (const url of ['https://example.invalid/hook', 'http://127.0.0.1:9/hook'])
    queue(
      'door: QueueTask with a webhook reply and no WEBHOOK_SIGNING_SECRET',
      url,
      validQueueTask({ replyTo: { kind: 'webhook', url } }),
      rejectedAs('ReplyTargetNotServed'),
    );

  const start = (group: string, name: string, definition: unknown, check: CommandCase['check']) =>
    cases.push({
      group,
      name,
      subject: subjectOf('workflow'),
      body: JSON.stringify({ commandId: freshId(), type: 'StartWorkflow', actor: 'U-bad', data: { definition, requestedBy: 'U-bad' } }),
      check,
    });
  for (const taskType of ['no-such-type', 'rm-rf', ...unknownTypes.slice(0, 10)]) {
    start(
      'door: StartWorkflow with a task of an unknown type',
      taskType,
      workflowOf([{ type: 'task', id: 'step', taskType, params: { repository: REPOSITORY } }], [...taskTypes, taskType]),
      rejectedAs('UnknownTaskType'),
    );
  }
  for (const repository of escapes) {
    start(
      'door: StartWorkflow whose repository escapes the workspace',
      repository,
      workflowOf([{ type: 'task', id: 'status', taskType: 'git-status', params: { repository } }], taskTypes),
      rejectedAs('OutsideWorkspace', 'InvalidTaskParameters'),
    );
  }
  start(
    'door: StartWorkflow that deploys without a gate',
    'sf-deploy, no approval',
    workflowOf([{ type: 'task', id: 'deploy', taskType: 'sf-deploy', params: { repository: REPOSITORY } }], taskTypes),
    refused,
  );
  for (const [i, junk] of sample(fc.jsonValue({ maxDepth: 4 }), 60, 8).entries()) start('raw StartWorkflow: definition is random JSON', `#${i}`, junk, refused);
  const good = workflowOf([{ type: 'task', id: 'status', taskType: 'git-status', params: { repository: REPOSITORY } }], taskTypes) as unknown as {
    machine: Record<string, unknown>;
  };
  for (const [i, machine] of sample(randomObject, 30, 9).entries())
    start('raw StartWorkflow: compiled machine replaced by random data', `#${i}`, { ...good, machine }, refused);
  const states = (good.machine as { nodes?: unknown }).nodes;
  start('raw StartWorkflow: compiled machine starting nowhere', 'start = nowhere', { ...good, machine: { ...good.machine, start: 'nowhere' } }, refused);
  start(
    'raw StartWorkflow: compiled machine with no nodes',
    'nodes = []',
    { ...good, machine: { ...good.machine, nodes: Array.isArray(states) ? [] : {} } },
    refused,
  );
  return { name: 'doors', cases };
}

/** Every family, for commands sent to `subject(category, id)`. */
export function commandFamilies(subject: (category: string, id: string) => string): Family[] {
  subjectOf = (category, id = freshId()) => subject(category, id);
  return [...envelopeFamilies(), sizeFamily(), subjectFamily(), commandFieldsFamily(), doorFamily()];
}
