import { createHmac, timingSafeEqual } from 'node:crypto';

// Outgoing webhooks are signed (SE6). What a receiver gets with every POST:
//
//   content-type:      application/json
//   x-orch-delivery:   the delivery id, the same on every attempt (drop repeats by it)
//   x-orch-attempt:    1, 2, 3…
//   x-orch-timestamp:  unix seconds when this attempt was signed
//   x-orch-signature:  v1=<hex>, hex = HMAC-SHA256(secret, `v1:${timestamp}:${rawBody}`)
//
// The receiver recomputes the HMAC over the raw body bytes exactly as received (before any
// JSON parsing), compares in constant time, and refuses timestamps more than five minutes
// from its own clock, so a captured request cannot be replayed later. The timestamp is
// inside the signed text, so it cannot be moved forward without the secret.
// `verifyWebhookSignature` does all of that.

const VERSION = 'v1';

function hmacHex(secret: string, timestampSeconds: number | string, body: string | Uint8Array): string {
  if (secret === '') throw new Error('a webhook signing secret is required');
  return createHmac('sha256', secret).update(`${VERSION}:${timestampSeconds}:`).update(body).digest('hex');
}

/** The `x-orch-signature` value for a body signed at `timestampSeconds`. */
export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  return `${VERSION}=${hmacHex(secret, timestampSeconds, body)}`;
}

export interface WebhookVerification {
  readonly secret: string;
  /** The `x-orch-signature` header. */
  readonly signature: string | undefined;
  /** The `x-orch-timestamp` header. */
  readonly timestamp: string | number | undefined;
  /** The raw request body, as received. */
  readonly body: string | Uint8Array;
  /** Default: the system clock. */
  readonly nowSeconds?: number;
  /** How far the timestamp may be from now, either way. Default 300 (five minutes). */
  readonly toleranceSeconds?: number;
}

export type WebhookVerificationResult =
  { readonly ok: true } | { readonly ok: false; readonly reason: 'missing-signature' | 'bad-timestamp' | 'stale' | 'mismatch' };

const parseTimestamp = (timestamp: string | number | undefined): number | undefined => {
  if (typeof timestamp === 'number') return Number.isSafeInteger(timestamp) && timestamp >= 0 ? timestamp : undefined;
  if (timestamp === undefined || !/^\d{1,15}$/.test(timestamp.trim())) return undefined;
  return Number(timestamp.trim());
};

export function verifyWebhookSignature({
  secret,
  signature,
  timestamp,
  body,
  nowSeconds = Math.floor(Date.now() / 1000),
  toleranceSeconds = 300,
}: WebhookVerification): WebhookVerificationResult {
  if (signature === undefined || signature.trim() === '') return { ok: false, reason: 'missing-signature' };
  const signedAt = parseTimestamp(timestamp);
  if (signedAt === undefined) return { ok: false, reason: 'bad-timestamp' };
  if (Math.abs(nowSeconds - signedAt) > toleranceSeconds) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(`${VERSION}=${hmacHex(secret, signedAt, body)}`);
  const given = Buffer.from(signature.trim().toLowerCase());
  const matches = given.length === expected.length && timingSafeEqual(given, expected);
  return matches ? { ok: true } : { ok: false, reason: 'mismatch' };
}
