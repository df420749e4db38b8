import type { Either } from 'fp-ts/lib/Either.js';
import type { Rejection } from '../decider.ts';
import type { WorkflowEvent } from './events.ts';

/** What every workflow rule returns: the events it decides, or why it refuses. */
export type Decision = Either<Rejection, readonly WorkflowEvent[]>;
