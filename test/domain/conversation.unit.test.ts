import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { fold } from '../../domain/decider.ts';
import {
  conversationDecider,
  longTermMemory,
  parseConversationCommand,
  shortTermMemory,
  workingMemory,
  type AskedFor,
  type ConversationCommand,
  type ConversationCommandOf,
  type ConversationEvent,
  type ConversationEventData,
  type ConversationEventOf,
  type JsonValue,
  type MessageRole,
} from '../../domain/conversation/index.ts';
import { specFor } from '../support/decider-spec.ts';

const { given } = specFor(conversationDecider);

// ── fixtures ────────────────────────────────────────────────────────────────
const conversationId = 'C042-1732183200_000100';
/** Minute `m` past ten on the day of the fixtures. */
const minute = (m: number) => new Date(Date.UTC(2026, 10, 21, 10, m)).toISOString();
const at = minute(0);

const event = <K extends ConversationEvent['type']>(
  type: K,
  data: Omit<ConversationEventData<K>, 'conversationId' | 'at'>,
  when = at,
): ConversationEventOf<K> => ({ type, data: { conversationId, ...data, at: when } }) as ConversationEventOf<K>;
const command = <K extends ConversationCommand['type']>(
  type: K,
  fields: Omit<ConversationCommandOf<K>, 'type' | 'conversationId' | 'at'>,
): ConversationCommandOf<K> => ({ type, conversationId, at, ...fields }) as ConversationCommandOf<K>;

const startFields = { user: 'U123', channel: 'C042', threadTs: '1732183200.000100', source: 'slack' } as const;
const roleOf = (n: number): MessageRole => (n % 2 === 1 ? 'user' : 'assistant');

const started = () => event('ConversationStarted', startFields);
const messageAdded = (n: number, when = minute(n)) => event('MessageAdded', { messageId: `m${n}`, role: roleOf(n), text: `message ${n}` }, when);
const messages = (count: number) => Array.from({ length: count }, (_, i) => messageAdded(i + 1));
const contextSet = (name: string, value: JsonValue) => event('ContextVariableSet', { name, value });
const summarized = (coversThroughMessage: number) => event('MemorySummarized', { summary: `key points of 1..${coversThroughMessage}`, coversThroughMessage });
const archived = () => event('ConversationArchived', { reason: 'idle for 30 days' });

const startConversation = () => command('StartConversation', startFields);
const addMessage = (n: number) => command('AddMessage', { messageId: `m${n}`, role: roleOf(n), text: `message ${n}` });
const setContext = (name: string, value: JsonValue) => command('SetContextVariable', { name, value });
const summarize = (coversThroughMessage: number) => command('SummarizeMemory', { summary: `key points of 1..${coversThroughMessage}`, coversThroughMessage });
const archive = () => command('ArchiveConversation', { reason: 'idle for 30 days' });
const firstMessage = () => command('AddMessage', { messageId: 'm1', role: 'user', text: 'message 1', start: startFields });

const askedTask: AskedFor = { kind: 'task', taskType: 'run-tests', taskIds: ['slack-C042-1732183260_000200'] };
const askedPlan: AskedFor = { kind: 'plan', planId: 'slack-C042-1732183320_000300' };
const recordRequest = (messageId: string, asked: AskedFor, context: Record<string, JsonValue> = {}) => command('RecordRequest', { messageId, asked, context });
const requestRecorded = (messageId: string, asked: AskedFor, context: Record<string, JsonValue> = {}) =>
  event('RequestRecorded', { messageId, asked, context });

// ── rules ───────────────────────────────────────────────────────────────────
describe('StartConversation', () => {
  it('starts a conversation for a Slack thread', () => given().when(startConversation()).then(started()));
  it('refuses starting it twice', () => given(started()).when(startConversation()).thenRejects('ConversationAlreadyStarted'));
  it('refuses restarting an archived conversation', () => given(started(), archived()).when(startConversation()).thenRejects('ConversationArchived'));
});

describe('AddMessage', () => {
  it('adds a message', () => given(started()).when(addMessage(1)).then(messageAdded(1, at)));
  it('keeps the metadata that came with it', () =>
    given(started())
      .when(command('AddMessage', { messageId: 'm1', role: 'user', text: 'analyze acme', metadata: { slackEventId: 'Ev1' } }))
      .then(event('MessageAdded', { messageId: 'm1', role: 'user', text: 'analyze acme', metadata: { slackEventId: 'Ev1' } })));
  it('ignores a message id it already has (Slack retried)', () => given(started(), messageAdded(1)).when(addMessage(1)).thenNothing());
  it('refuses a message before the conversation started', () => given().when(addMessage(1)).thenRejects('ConversationNotStarted'));
  it('refuses a message in an archived conversation', () => given(started(), archived()).when(addMessage(1)).thenRejects('ConversationArchived'));
  it("starts the conversation with the thread's first message, when told who and where", () =>
    given()
      .when(firstMessage())
      .then(event('ConversationStarted', startFields), event('MessageAdded', { messageId: 'm1', role: 'user', text: 'message 1' })));
  it('adds only the message to a conversation already started, whatever `start` says', () =>
    given(started())
      .when(firstMessage())
      .then(event('MessageAdded', { messageId: 'm1', role: 'user', text: 'message 1' })));
  it('ignores the first message redelivered: nothing is started or added again', () => given(started(), messageAdded(1)).when(firstMessage()).thenNothing());
  it('refuses to start an archived conversation again with a message', () =>
    given(started(), archived()).when(firstMessage()).thenRejects('ConversationArchived'));
});

describe('RecordRequest', () => {
  it('records the task a message asked for, with the variables its reading set', () =>
    given(started(), messageAdded(1))
      .when(recordRequest('m1', askedTask, { currentRepo: '/work/acme' }))
      .then(requestRecorded('m1', askedTask, { currentRepo: '/work/acme' })));
  it('records the plan a message asked for', () =>
    given(started(), messageAdded(1)).when(recordRequest('m1', askedPlan)).then(requestRecorded('m1', askedPlan)));
  it('records one request per message: a replayed message records nothing more', () =>
    given(started(), messageAdded(1), requestRecorded('m1', askedTask)).when(recordRequest('m1', askedPlan)).thenNothing());
  it('records a request of each message in turn', () =>
    given(started(), messageAdded(1), requestRecorded('m1', askedTask), messageAdded(3))
      .when(recordRequest('m3', askedPlan))
      .then(requestRecorded('m3', askedPlan)));
  it('refuses a request for a message the thread does not have', () =>
    given(started(), messageAdded(1)).when(recordRequest('m9', askedTask)).thenRejects('MessageNotInConversation'));
  it('refuses a variable it does not know, as SetContextVariable does', () =>
    given(started(), messageAdded(1))
      .when(recordRequest('m1', askedTask, { favouriteColour: 'blue' }))
      .thenRejects('InvalidContextVariable'));
  it('refuses a known variable of the wrong shape', () =>
    given(started(), messageAdded(1))
      .when(recordRequest('m1', askedTask, { currentRepo: 42 }))
      .thenRejects('InvalidContextVariable'));
  it('refuses a request before the conversation started', () => given().when(recordRequest('m1', askedTask)).thenRejects('ConversationNotStarted'));
  it('refuses a request in an archived conversation', () =>
    given(started(), messageAdded(1), archived()).when(recordRequest('m1', askedTask)).thenRejects('ConversationArchived'));

  it("sets the variables follow-ups resolve against: the reading's own, the task type and ids, or the plan", () => {
    const state = fold(conversationDecider, [
      started(),
      messageAdded(1),
      requestRecorded('m1', askedTask, { currentRepo: '/work/acme' }),
      messageAdded(3),
      requestRecorded('m3', askedPlan),
    ]);
    if (state.status === 'none') expect.fail('started');
    expect(state.context).toEqual({
      currentRepo: '/work/acme',
      lastTaskType: 'run-tests',
      lastTaskIds: ['slack-C042-1732183260_000200'],
      lastPlanId: 'slack-C042-1732183320_000300',
    });
    expect(state.messages.map((m) => m.asked)).toEqual([askedTask, askedPlan]);
  });
});

describe('SetContextVariable', () => {
  it('sets the current repository', () => given(started()).when(setContext('currentRepo', 'acme/api')).then(contextSet('currentRepo', 'acme/api')));
  it('sets a custom variable to any JSON value', () =>
    given(started())
      .when(setContext('custom.lastDeployTarget', { org: 'uat' }))
      .then(contextSet('custom.lastDeployTarget', { org: 'uat' })));
  it('replaces a value that changed', () =>
    given(started(), contextSet('lastTaskIds', ['T1']))
      .when(setContext('lastTaskIds', ['T1', 'T2']))
      .then(contextSet('lastTaskIds', ['T1', 'T2'])));
  it('ignores setting the same value again', () =>
    given(started(), contextSet('lastTaskIds', ['T1', 'T2']))
      .when(setContext('lastTaskIds', ['T1', 'T2']))
      .thenNothing());
  it('ignores the same structured value with its keys in another order', () =>
    given(started(), contextSet('lastFindings', { todo: 3, fixme: 1 }))
      .when(setContext('lastFindings', { fixme: 1, todo: 3 }))
      .thenNothing());
  it('refuses a name it does not know', () => given(started()).when(setContext('favouriteColour', 'blue')).thenRejects('InvalidContextVariable'));
  it.each(['custom.', 'custom.Repo', 'custom.a.b', 'custom.my-var'])('refuses the custom name %j', (name) =>
    given(started()).when(setContext(name, 1)).thenRejects('InvalidContextVariable'),
  );
  it('refuses a value of the wrong shape for a known name', () => given(started()).when(setContext('lastTaskIds', 'T1')).thenRejects('InvalidContextVariable'));
  it('refuses a variable before the conversation started', () => given().when(setContext('currentRepo', 'acme/api')).thenRejects('ConversationNotStarted'));
  it('refuses a variable in an archived conversation', () =>
    given(started(), archived()).when(setContext('currentRepo', 'acme/api')).thenRejects('ConversationArchived'));
});

describe('SummarizeMemory', () => {
  it('summarizes the messages so far', () =>
    given(started(), ...messages(3))
      .when(summarize(2))
      .then(summarized(2)));
  it('extends an earlier summary', () =>
    given(started(), ...messages(3), summarized(2))
      .when(summarize(3))
      .then(summarized(3)));
  it('refuses a summary that covers no more than the last one', () =>
    given(started(), ...messages(3), summarized(2))
      .when(summarize(2))
      .thenRejects('SummaryDoesNotAdvance'));
  it('refuses a summary of no messages', () =>
    given(started(), ...messages(3))
      .when(summarize(0))
      .thenRejects('SummaryDoesNotAdvance'));
  it('refuses a summary past the last message', () =>
    given(started(), ...messages(3))
      .when(summarize(4))
      .thenRejects('SummaryBeyondLastMessage'));
  it('refuses a summary before the conversation started', () => given().when(summarize(1)).thenRejects('ConversationNotStarted'));
  it('refuses a summary of an archived conversation', () =>
    given(started(), ...messages(3), archived())
      .when(summarize(3))
      .thenRejects('ConversationArchived'));
});

describe('ArchiveConversation', () => {
  it('archives a conversation', () =>
    given(started(), ...messages(2))
      .when(archive())
      .then(archived()));
  it('ignores archiving it again', () => given(started(), archived()).when(archive()).thenNothing());
  it('refuses archiving a conversation that never started', () => given().when(archive()).thenRejects('ConversationNotStarted'));
});

// ── state and memory ────────────────────────────────────────────────────────
describe('conversation state', () => {
  it('folds a realistic thread', () => {
    const history = [
      started(),
      messageAdded(1),
      messageAdded(2),
      contextSet('currentRepo', 'acme/api'),
      contextSet('lastTaskIds', ['T1']),
      messageAdded(3),
      contextSet('lastTaskIds', ['T2']),
      summarized(2),
      archived(),
    ];
    expect(fold(conversationDecider, history)).toEqual({
      status: 'archived',
      conversationId,
      ...startFields,
      startedAt: at,
      messages: [
        { id: 'm1', role: 'user', text: 'message 1', at: minute(1) },
        { id: 'm2', role: 'assistant', text: 'message 2', at: minute(2) },
        { id: 'm3', role: 'user', text: 'message 3', at: minute(3) },
      ],
      context: { currentRepo: 'acme/api', lastTaskIds: ['T2'] },
      summary: { text: 'key points of 1..2', coversThroughMessage: 2, at },
      archived: { reason: 'idle for 30 days', at },
    });
  });
});

describe('memory', () => {
  const thread = fold(conversationDecider, [started(), ...Array.from({ length: 12 }, (_, i) => messageAdded(i + 1, minute(i * 10))), summarized(4)]);
  const ids = (list: readonly { id: string }[]) => list.map((m) => m.id);

  it('keeps the last ten messages in working memory, oldest first', () => {
    expect(ids(workingMemory(thread))).toEqual(['m3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9', 'm10', 'm11', 'm12']);
    expect(ids(workingMemory(thread, 2))).toEqual(['m11', 'm12']);
    expect(workingMemory(thread, 0)).toEqual([]);
  });

  it('keeps the last hour in short-term memory', () => {
    // Messages at 10:00, 10:10 … 11:50; an hour before 11:55 is 10:55.
    expect(ids(shortTermMemory(thread, '2026-11-21T11:55:00.000Z'))).toEqual(['m7', 'm8', 'm9', 'm10', 'm11', 'm12']);
    expect(ids(shortTermMemory(thread, '2026-11-21T11:55:00.000Z', 20 * 60_000))).toEqual(['m11', 'm12']);
  });

  it('keeps the summary as long-term memory', () => expect(longTermMemory(thread)).toBe('key points of 1..4'));

  it('is empty before the conversation started', () => {
    const none = conversationDecider.initialState();
    expect(workingMemory(none)).toEqual([]);
    expect(shortTermMemory(none, at)).toEqual([]);
    expect(longTermMemory(none)).toBeUndefined();
  });
});

// ── boundary ────────────────────────────────────────────────────────────────
describe('parseConversationCommand', () => {
  const problems = (input: unknown): readonly string[] => {
    const result = parseConversationCommand(input);
    return isLeft(result) ? result.left.issues : expect.fail('expected the command to be refused');
  };

  it('accepts a message from Slack', () => {
    const result = parseConversationCommand({ type: 'AddMessage', conversationId, at, messageId: '1732183200.000100', role: 'user', text: 'run tests' });
    expect(isRight(result) && result.right).toEqual({
      type: 'AddMessage',
      conversationId,
      at,
      messageId: '1732183200.000100',
      role: 'user',
      text: 'run tests',
    });
  });

  it('refuses an unknown command type, naming the known ones', () =>
    expect(problems({ type: 'DeleteConversation', conversationId, at })).toEqual([
      'type: unknown command type "DeleteConversation"; expected one of StartConversation, AddMessage, RecordRequest, SetContextVariable, SummarizeMemory, ArchiveConversation',
    ]));

  it('refuses a conversation id with a "."', () =>
    expect(problems({ type: 'ArchiveConversation', conversationId: 'C042.1', at, reason: 'x' })).toEqual([
      'conversationId: must be 1-200 characters with no ".", "*", ">" or white space',
    ]));

  it('refuses empty, overlong or unattributed messages', () => {
    const message = { type: 'AddMessage', conversationId, at, messageId: 'm1', role: 'user', text: 'hi' };
    expect(problems({ ...message, text: '' })).toEqual([expect.stringMatching(/^text: Too small/)]);
    expect(problems({ ...message, text: 'x'.repeat(40_001) })).toEqual([expect.stringMatching(/^text: Too big/)]);
    expect(problems({ ...message, role: 'bot' })).toEqual([expect.stringMatching(/^role: /)]);
    expect(problems({ ...message, messageId: undefined })).toEqual(['messageId: Invalid input: expected string, received undefined']);
  });

  it('refuses a context value that is not JSON', () =>
    expect(problems({ type: 'SetContextVariable', conversationId, at, name: 'currentRepo', value: undefined })).toEqual([expect.stringMatching(/^value: /)]));
});
