import { left, right } from 'fp-ts/lib/Either.js';
import type { Decider } from '../../domain/decider.ts';
import type { AggregateDefinition } from '../../actors/runtime/aggregate-definition.ts';

// A minimal aggregate for testing the actor runtime on its own: counts, refuses to go below zero.

export type TallyCommand = { type: 'Add'; id: string; amount: number; at: string } | { type: 'Open'; id: string; at: string };
export type TallyEvent = { type: 'TallyOpened'; data: { id: string } } | { type: 'Added'; data: { amount: number; total: number } };
export interface TallyState {
  readonly open: boolean;
  readonly total: number;
}

export const tallyDecider: Decider<TallyCommand, TallyEvent, TallyState> = {
  initialState: () => ({ open: false, total: 0 }),
  decide: (command, state) => {
    if (command.type === 'Open') return state.open ? right([]) : right([{ type: 'TallyOpened', data: { id: command.id } }]);
    if (!state.open) return left({ code: 'TallyNotOpen', message: 'open the tally first' });
    if (state.total + command.amount < 0) return left({ code: 'WouldGoNegative', message: `total ${state.total} cannot take ${command.amount}` });
    return right([{ type: 'Added', data: { amount: command.amount, total: state.total + command.amount } }]);
  },
  evolve: (state, event) => (event.type === 'TallyOpened' ? { ...state, open: true } : { ...state, total: event.data.total }),
};

export const tallyAggregate: AggregateDefinition<TallyCommand, TallyEvent, TallyState> = {
  category: 'tally',
  decider: tallyDecider,
  creates: ['Open'],
  schemaVersion: 1,
  parseCommand: ({ type, id, at, data }) => {
    if (type === 'Open') return right({ type, id, at });
    if (type === 'Add' && typeof data.amount === 'number' && Number.isInteger(data.amount)) return right({ type, id, at, amount: data.amount });
    return left([type === 'Add' ? 'amount: must be an integer' : `type: unknown command ${type}`]);
  },
};
