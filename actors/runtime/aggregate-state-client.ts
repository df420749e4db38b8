import type { NatsConnection } from 'nats';
import { budgetAggregate } from '../aggregates/budget.ts';
import { conversationAggregate } from '../aggregates/conversation.ts';
import { deliveryAggregate } from '../aggregates/delivery.ts';
import { planAggregate } from '../aggregates/plan.ts';
import { taskAggregate } from '../aggregates/task.ts';
import { workflowAggregate } from '../aggregates/workflow.ts';
import type { AggregateDefinition } from './aggregate-definition.ts';
import { NoAggregateHost } from './command-client.ts';
import { stateSubject, type StateAnswer, type StateQueryErrorCode } from './state-query.ts';

// Asks the aggregate host for one aggregate's current state: what a caller that must see its own
// write reads, instead of folding the stream itself. The host answers from its cache (checked
// against the stream's last revision) or a snapshot and the tail.

const definitions = {
  conversation: conversationAggregate,
  task: taskAggregate,
  plan: planAggregate,
  workflow: workflowAggregate,
  budget: budgetAggregate,
  delivery: deliveryAggregate,
} as const;

type Definitions = typeof definitions;

/** A category whose state can be asked for. */
export type StateCategory = keyof Definitions;

/** The state type of category `C`, as its aggregate definition declares it. */
export type StateOf<C extends StateCategory> = Definitions[C] extends AggregateDefinition<infer _Command, infer _Event, infer State> ? State : never;

export class StateQueryTimedOut extends Error {
  override readonly name = 'StateQueryTimedOut';
  constructor(
    readonly subject: string,
    timeoutMs: number,
  ) {
    super(`no answer to the state query on ${subject} within ${timeoutMs} ms; ask again`);
  }
}

/** The host answered, but not with a state: an invalid id, a state too large to send, or a failed read. */
export class StateQueryRefused extends Error {
  override readonly name = 'StateQueryRefused';
  constructor(
    readonly subject: string,
    readonly code: StateQueryErrorCode,
    detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

export class AggregateStateClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix = 'orch',
    private readonly timeoutMs = 5_000,
  ) {}

  /** The aggregate's current state; its initial state (`status: 'none'`) when it does not exist. */
  async read<C extends StateCategory>(category: C, id: string): Promise<StateOf<C>> {
    return (await this.readWithRevision(category, id)).state;
  }

  /** The state and the stream revision it folds (null while the stream does not exist): to skip replayed events it already holds. */
  async readWithRevision<C extends StateCategory>(category: C, id: string): Promise<{ readonly state: StateOf<C>; readonly revision: bigint | null }> {
    const subject = stateSubject(this.prefix, category, id);
    let answer: StateAnswer;
    try {
      const reply = await this.nc.request(subject, new Uint8Array(0), { timeout: this.timeoutMs });
      answer = JSON.parse(new TextDecoder().decode(reply.data)) as StateAnswer;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === '503') throw new NoAggregateHost(subject);
      if (code === 'TIMEOUT') throw new StateQueryTimedOut(subject, this.timeoutMs);
      throw error;
    }
    if (answer.status === 'error') throw new StateQueryRefused(subject, answer.code, answer.message);
    const decode = definitions[category].snapshot?.decode as ((value: unknown) => StateOf<C>) | undefined;
    // The host sends what its own definition encodes: the wire form of this category's state.
    const state = decode ? decode(answer.state) : (answer.state as StateOf<C>);
    return { state, revision: answer.revision === null ? null : BigInt(answer.revision) };
  }
}
