import { describe, expect, it } from 'vitest';
import { conversationView, MESSAGES_KEPT } from '../../projections/models/conversation-view.ts';
import { at, conversationEvents, EventLog, fold } from './fixtures.ts';

const setup = () => {
  const log = new EventLog();
  return { log, c1: conversationEvents(log, 'C1-1732183200_000100') };
};
const KEY = 'C1-1732183200_000100';

describe('conversation-view: one document per conversation', () => {
  it('a started conversation shows who, where, and nothing said yet', async () => {
    const { c1 } = setup();
    const model = await fold(conversationView, [c1.started({ at: 0 })]);
    expect(model.doc(KEY)).toEqual({
      conversationId: KEY,
      user: 'U123',
      channel: 'C1',
      threadTs: '1732183200.000100',
      source: 'slack',
      status: 'active',
      startedAt: at(0),
      messages: [],
      messageCount: 0,
      context: {},
      lastActivity: at(0),
    });
  });

  it('messages appear in order with role and time', async () => {
    const { c1 } = setup();
    const model = await fold(conversationView, [c1.started(), c1.message({ n: 1, at: 5 }), c1.message({ n: 2, at: 8, role: 'assistant' })]);
    expect(model.doc(KEY)).toMatchObject({
      messages: [
        { messageId: 'm1', role: 'user', text: 'message 1', at: at(5) },
        { messageId: 'm2', role: 'assistant', text: 'message 2', at: at(8) },
      ],
      messageCount: 2,
      lastActivity: at(8),
    });
  });

  it(`keeps only the last ${MESSAGES_KEPT} messages, while messageCount counts every one`, async () => {
    const { c1 } = setup();
    const messages = Array.from({ length: MESSAGES_KEPT + 5 }, (_, i) => c1.message({ n: i + 1, at: i + 1 }));
    const model = await fold(conversationView, [c1.started(), ...messages]);
    const doc = model.doc(KEY)!;
    expect(doc.messageCount).toBe(205);
    expect(doc.messages).toHaveLength(MESSAGES_KEPT);
    expect((doc.messages as { messageId: string }[]).map((m) => m.messageId)).toEqual(Array.from({ length: MESSAGES_KEPT }, (_, i) => `m${i + 6}`));
  });

  it("a recorded request sets its reading's variables and what it asked for, as the conversation's own state does", async () => {
    const { c1 } = setup();
    const model = await fold(conversationView, [
      c1.started(),
      c1.message({ n: 1, at: 5 }),
      c1.requestRecorded({ messageId: 'm1', asked: { kind: 'task', taskType: 'run-tests', taskIds: ['T1'] }, context: { currentRepo: 'acme' }, at: 6 }),
      c1.message({ n: 2, at: 7 }),
      c1.requestRecorded({ messageId: 'm2', asked: { kind: 'plan', planId: 'P1' }, at: 8 }),
    ]);
    expect(model.doc(KEY)).toMatchObject({
      context: { currentRepo: 'acme', lastTaskType: 'run-tests', lastTaskIds: ['T1'], lastPlanId: 'P1' },
      lastActivity: at(8),
    });
  });

  it('context variables hold the latest value of each name', async () => {
    const { c1 } = setup();
    const model = await fold(conversationView, [
      c1.started(),
      c1.contextSet({ name: 'currentRepo', value: 'acme/api', at: 5 }),
      c1.contextSet({ name: 'lastTaskIds', value: ['T1'], at: 6 }),
      c1.contextSet({ name: 'lastTaskIds', value: ['T1', 'T2'], at: 7 }),
      c1.contextSet({ name: 'custom.branch', value: { name: 'main', protected: true }, at: 8 }),
    ]);
    expect(model.doc(KEY)).toMatchObject({
      context: { currentRepo: 'acme/api', lastTaskIds: ['T1', 'T2'], 'custom.branch': { name: 'main', protected: true } },
      lastActivity: at(8),
    });
  });

  it('a summary says how far it covers', async () => {
    const { c1 } = setup();
    const model = await fold(conversationView, [c1.started(), c1.message({ n: 1, at: 1 }), c1.summarized({ summary: 'wants tests fixed', through: 1, at: 9 })]);
    expect(model.doc(KEY)).toMatchObject({ summary: { text: 'wants tests fixed', coversThroughMessage: 1 }, lastActivity: at(9) });
  });

  it('archiving keeps the history and says why', async () => {
    const { c1 } = setup();
    const model = await fold(conversationView, [c1.started(), c1.message({ n: 1, at: 1 }), c1.archived({ at: 3600 })]);
    expect(model.doc(KEY)).toMatchObject({
      status: 'archived',
      archived: { reason: 'idle for 30 days', at: at(3600) },
      messageCount: 1,
      lastActivity: at(3600),
    });
  });

  it('ignores unknown event types, data that fails its schema, strays and a second start', async () => {
    const { log, c1 } = setup();
    const model = await fold(conversationView, [c1.started()]);
    const before = model.doc(KEY);
    const ignored = [
      log.record(`conversation-${KEY}`, 'ConversationRenamed', { conversationId: KEY, at: at(1), name: 'x' }),
      log.record(`conversation-${KEY}`, 'MessageAdded', { conversationId: KEY, at: at(1), messageId: 'm1', role: 'robot', text: 'hi' }),
      log.record('conversation-other', 'MessageAdded', { conversationId: 'other', at: at(1), messageId: 'm1', role: 'user', text: 'hi' }),
      c1.started({ at: 2 }),
    ];
    for (const event of ignored) expect(await conversationView.apply(event, model)).toEqual([]);
    expect(model.doc(KEY)).toBe(before);
  });
});
