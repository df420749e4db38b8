import { describe, expect, expectTypeOf, it } from 'vitest';
import { commandCatalog, type CommandDataOf, type RejectionCodeOf } from '../../domain/commands/catalog.ts';
import type { CommandClient, ReplyOf } from '../../actors/runtime/command-client.ts';
import { rejectedAs } from '../../actors/runtime/command-replies.ts';

// `send` is checked at compile time: `npm run typecheck` fails if any `@ts-expect-error` below
// stops being an error, i.e. if a misspelt command type or field would compile again.

async function misuses(commands: CommandClient): Promise<void> {
  // @ts-expect-error: no such task command
  void commands.send({ category: 'task', id: 't1' }, { commandId: 'c1', type: 'QueueTaks', actor: 'U1', data: {} });
  // @ts-expect-error: a misspelt field of CancelTask
  void commands.send({ category: 'task', id: 't1' }, { commandId: 'c1', type: 'CancelTask', actor: 'U1', data: { reasn: 'oops' } });
  // @ts-expect-error: who approves is the envelope's verified actor, never a payload field
  void commands.send({ category: 'workflow', id: 'w1' }, { commandId: 'c1', type: 'GrantApproval', actor: 'U1', data: { stepId: 'go', approver: 'U2' } });
  // @ts-expect-error: a workflow command sent to a plan
  void commands.send({ category: 'plan', id: 'p1' }, { commandId: 'c1', type: 'CancelWorkflow', actor: 'U1', data: { reason: 'x' } });
  // @ts-expect-error: an unknown category
  void commands.send({ category: 'tally', id: 'x' }, { commandId: 'c1', type: 'Open', actor: 'U1', data: {} });
  // The right shape compiles, and its reply's rejection codes are the task's.
  const reply = await commands.send({ category: 'task', id: 't1' }, { commandId: 'c1', type: 'CancelTask', actor: 'U1', data: { reason: 'no longer needed' } });
  void rejectedAs(reply, 'TaskAlreadyFinished');
  // @ts-expect-error: a misspelt rejection code
  void rejectedAs(reply, 'TaskAlreadyFinishd');
  // @ts-expect-error: a workflow's code on a task's reply
  void rejectedAs(reply, 'WorkflowAlreadyFinished');
}

describe('the typed command client', () => {
  it("derives each command's data from the domain schema, without what the host fills in", () => {
    expectTypeOf<CommandDataOf<'task', 'CancelTask'>>().toEqualTypeOf<{ reason: string }>();
    expectTypeOf<CommandDataOf<'workflow', 'GrantApproval'>>().toHaveProperty('stepId');
    expect(typeof misuses).toBe('function');
  });

  it('types a rejection with the codes of the category it was sent to, one name per rule', () => {
    expectTypeOf<ReplyOf<'plan'>>().toMatchTypeOf<{ status: string }>();
    expectTypeOf<'RequesterCannotApprove'>().toMatchTypeOf<RejectionCodeOf<'plan'>>();
    expectTypeOf<'RequesterCannotApprove'>().toMatchTypeOf<RejectionCodeOf<'workflow'>>();
    // @ts-expect-error: the plan's old name for the same rule is gone
    expectTypeOf<'RequesterMayNotApprove'>().toMatchTypeOf<RejectionCodeOf<'plan'>>();
  });

  it('has one catalog entry per hosted aggregate, with the id field each host fills', async () => {
    const { aggregates } = await import('../../actors/aggregates/index.ts');
    expect(Object.keys(commandCatalog).sort()).toEqual(aggregates.map((a) => a.category).sort());
    expect(commandCatalog.workflow.actorFields.GrantApproval).toBe('approver');
  });
});
