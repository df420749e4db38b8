import type { Options } from 'p-retry';
import { BROKER_CALL_BACKOFF, type Backoff } from '../../domain/backoff.ts';

/** p-retry's timing for a backoff: doubling from `initialMs` to `maxMs`, randomized (p-retry draws ×1 to ×2 below the cap). */
export const pRetryTiming = (backoff: Backoff = BROKER_CALL_BACKOFF): Pick<Options, 'minTimeout' | 'maxTimeout' | 'factor' | 'randomize'> => ({
  minTimeout: backoff.initialMs,
  maxTimeout: backoff.maxMs,
  factor: 2,
  randomize: true,
});
