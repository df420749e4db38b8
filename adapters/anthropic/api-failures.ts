import { AnthropicError, APIConnectionError, APIError } from '@anthropic-ai/sdk';
import type { ModelSpend } from '../../domain/cost/token-cost.ts';
import { plannerRequestFailed, plannerUnavailable, type PlannerFailure } from '../../domain/plan/index.ts';
import { scrubSecrets } from '../../domain/secrets/scrub-secrets.ts';

// The SDK's errors turned into the planner's. The SDK has already retried what can be
// retried (408, 409, 429, 5xx, 529 overloaded, connection failures) with its exponential
// backoff, honouring `retry-after`; whatever still fails is PlannerUnavailable. Messages are
// built from the error's type and the API's message only, never from headers or the request,
// and any occurrence of the key is masked as well (SE4).

const retryable = (status: number | undefined): boolean => status === 408 || status === 409 || status === 429 || (status !== undefined && status >= 500);

/** The one scrubber: the key, and any credential shape the API's message might echo. */
export const mask = (text: string, secret: string): string => scrubSecrets(text, secret === '' ? [] : [secret]);

export interface FailureContext {
  /** Attempts the SDK made: 1 + maxRetries once retries are exhausted. */
  readonly attempts: number;
  readonly spent: ModelSpend;
  /** The API key, to mask wherever it might appear. */
  readonly secret: string;
}

export function plannerFailureOf(error: unknown, { attempts, spent, secret }: FailureContext): PlannerFailure {
  if (error instanceof APIConnectionError) {
    return plannerUnavailable(mask(`could not reach the Anthropic API: ${error.message}`, secret), attempts, spent);
  }
  if (error instanceof APIError) {
    const status = typeof error.status === 'number' ? error.status : undefined;
    const kind = error.type ?? `HTTP ${status ?? '?'}`;
    if (retryable(status)) return plannerUnavailable(mask(`${kind}, HTTP ${status}`, secret), attempts, spent, status);
    const hint = status === 401 || status === 403 ? '; check ANTHROPIC_API_KEY' : '';
    return plannerRequestFailed(mask(`${kind} (HTTP ${status}): ${error.apiMessage ?? 'no message'}${hint}`, secret), spent, status);
  }
  if (error instanceof AnthropicError) return plannerRequestFailed(mask(error.message, secret), spent);
  throw error;
}
