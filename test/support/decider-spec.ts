import { isLeft } from 'fp-ts/lib/Either.js';
import { expect } from 'vitest';
import { fold, type Decider, type DomainEvent } from '../../domain/decider.ts';

// given(events).when(command).then(events) | thenRejects(code) | thenNothing():
// decider cases read as the rules they check, with no I/O.

export const specFor = <C, E extends DomainEvent, S>(decider: Decider<C, E, S>) => ({
  given: (...events: E[]) => ({
    when: (command: C) => {
      const decide = () => decider.decide(command, fold(decider, events));
      return {
        then(...expected: E[]): void {
          const result = decide();
          if (isLeft(result)) expect.fail(`expected [${expected.map((e) => e.type).join(', ')}] but was rejected ${result.left.code}: ${result.left.message}`);
          expect(result.right).toEqual(expected);
        },
        thenRejects(code: string): void {
          const result = decide();
          if (!isLeft(result)) expect.fail(`expected rejection ${code} but got [${result.right.map((e) => e.type).join(', ')}]`);
          expect(result.left.code).toBe(code);
          expect(result.left.message).not.toBe('');
        },
        thenNothing(): void {
          const result = decide();
          if (isLeft(result)) expect.fail(`expected no change but was rejected ${result.left.code}: ${result.left.message}`);
          expect(result.right).toEqual([]);
        },
      };
    },
  }),
});
