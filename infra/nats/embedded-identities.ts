import { publicEventNames } from '../../adapters/jetstream/public-event-stream.ts';

// The identities of the embedded nats-server and what each may do (DESIGN "Trust boundaries"):
// - `service`, the product's roles: everything (the only one that may publish to the event
//   store, work queues, KV, internal commands and queries, aggregate state queries
//   `<prefix>.state.>` — a state can hold what outside systems should not see — and manage JetStream);
// - `consumer`, outside readers: the public event subjects and the consumer API of the public
//   events stream, nothing else;
// - `producer-<name>`, outside command producers: their own gateway subjects `<prefix>.api.<name>.>`.
// Outside identities get private reply inboxes (`_INBOX_<user>.>`, set with nats.js
// `inboxPrefix`), so they cannot listen to the replies other clients receive on `_INBOX.>`.
// The consumer API subjects were read off nats-server 2.9.10 serving nats.js 2.29
// (test/infra/nats-permissions.int.test.ts exercises them).

export const SERVICE_USER = 'service';
export const CONSUMER_USER = 'consumer';
export const producerUser = (name: string): string => `producer-${name}`;
/** The reply-inbox prefix an outside identity must set (nats.js `inboxPrefix`, nats CLI `--inbox-prefix`). */
export const inboxPrefixOf = (user: string): string => `_INBOX_${user}`;

/** A producer name becomes one subject token (and part of a user name). */
export const PRODUCER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export interface SubjectPermissions {
  readonly publish: { readonly allow: readonly string[] };
  readonly subscribe: { readonly allow: readonly string[] };
}

export interface IdentityPlan {
  readonly user: string;
  /** Undefined: no restriction (the service identity). */
  readonly permissions?: SubjectPermissions;
}

export function consumerPermissions(prefix: string): SubjectPermissions {
  const { streamName: stream, subjectPrefix } = publicEventNames(prefix);
  const api = '$JS.API';
  return {
    publish: {
      allow: [
        `${api}.INFO`,
        `${api}.STREAM.INFO.${stream}`,
        // nats.js on a 2.9 server creates named consumers as CONSUMER.CREATE.<stream>.<name>[.<filter>];
        // the other two forms are older clients'.
        `${api}.CONSUMER.CREATE.${stream}`,
        `${api}.CONSUMER.CREATE.${stream}.>`,
        `${api}.CONSUMER.DURABLE.CREATE.${stream}.>`,
        `${api}.CONSUMER.INFO.${stream}.>`,
        `${api}.CONSUMER.MSG.NEXT.${stream}.>`,
        `${api}.CONSUMER.DELETE.${stream}.>`,
        `$JS.ACK.${stream}.>`,
        // Flow-control answers of push consumers.
        '$JS.FC.>',
      ],
    },
    subscribe: { allow: [`${subjectPrefix}.>`, `${inboxPrefixOf(CONSUMER_USER)}.>`] },
  };
}

export function producerPermissions(prefix: string, name: string): SubjectPermissions {
  return {
    publish: { allow: [`${prefix}.api.${name}.>`] },
    subscribe: { allow: [`${inboxPrefixOf(producerUser(name))}.>`] },
  };
}

/** Every identity of the embedded server for this prefix and these producer names. */
export function identityPlan(prefix: string, producers: readonly string[]): IdentityPlan[] {
  return [
    { user: SERVICE_USER },
    { user: CONSUMER_USER, permissions: consumerPermissions(prefix) },
    ...producers.map((name) => ({ user: producerUser(name), permissions: producerPermissions(prefix, name) })),
  ];
}
