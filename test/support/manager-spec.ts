import { expect } from 'vitest';
import { runManager, type Intent, type ProcessManager } from '../../domain/process/process-manager.ts';

// given(inputs).when(input).then(intents) | thenSends(...partial intents) | thenNothing():
// process-manager cases read as the rules they check, with no I/O, like the aggregates' specs.

export const managerSpecFor = <Input, State, Effect>(manager: ProcessManager<Input, State, Effect>) => ({
  given: (...inputs: Input[]) => ({
    when: (input: Input) => {
      const decide = (): readonly Intent<Effect>[] => manager.decide(input, runManager(manager, inputs).state);
      return {
        /** Exactly these intents, in this order. */
        then(...expected: Intent<Effect>[]): void {
          expect(decide()).toEqual(expected);
        },
        /** Intents matching these, in this order (each compared with `toMatchObject`), and no others. */
        thenSends(...expected: Partial<Intent<Effect>>[]): void {
          const intents = decide();
          expect(intents.length, `intents: ${JSON.stringify(intents)}`).toBe(expected.length);
          expected.forEach((partial, i) => expect(intents[i]).toMatchObject(partial as object));
        },
        thenNothing(): void {
          expect(decide()).toEqual([]);
        },
        /** The state after the given inputs and this one, for rules about what it remembers. */
        state: (): State => runManager(manager, [...inputs, input]).state,
      };
    },
  }),
});
