import type { AggregateStateClient, StateOf } from '../runtime/aggregate-state-client.ts';

// A plan's or workflow's current state with the revision it folds, asked of its aggregate host
// (answered from its cache or a snapshot, never a fold here): what a manager that first sees a
// plan or workflow mid-stream (after a restart) starts from, so replayed events the state
// already holds are not folded twice.

export interface StateAt<State> {
  readonly state: State;
  /** The stream's last revision the state folds; -1 while the stream does not exist. */
  readonly revision: number;
}

export type ReadStateAt = <C extends 'plan' | 'workflow'>(category: C, id: string) => Promise<StateAt<StateOf<C>>>;

export const aggregateStateAt =
  (states: AggregateStateClient): ReadStateAt =>
  async (category, id) => {
    const { state, revision } = await states.readWithRevision(category, id);
    return { state, revision: revision === null ? -1 : Number(revision) };
  };
