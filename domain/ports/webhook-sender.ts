// One attempt at delivering a task's result to the URL its requester gave (RP1). The caller
// owns the retry loop, the recording of attempts and the dead letter after the last try;
// an attempt only says whether it got through and, if not, whether another could.

export interface WebhookRequest {
  readonly url: string;
  /** The same on every attempt of one delivery, so the receiver can drop repeats. */
  readonly deliveryId: string;
  /** 1-based. */
  readonly attempt: number;
  /** Sent as JSON. */
  readonly body: unknown;
}

export type WebhookAttemptOutcome =
  | { readonly delivered: true; readonly status: number }
  | {
      readonly delivered: false;
      /** Set when the receiver answered. */
      readonly status?: number;
      /** Readable, and never contains the signing secret. */
      readonly error: string;
      readonly retryable: boolean;
      /** The receiver's `Retry-After`, when it gave one. */
      readonly retryAfterMs?: number;
    };

export interface WebhookSender {
  /** Resolves for every delivery failure, never rejects for one. */
  send(request: WebhookRequest): Promise<WebhookAttemptOutcome>;
}
