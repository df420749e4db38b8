// The state query of an aggregate host: a request on `<prefix>.state.<category>.<id>` (no body)
// answered by the host of that category with the aggregate's current state, from its cache when
// the stream has not moved since. Only the service identity may use these subjects (state can
// hold what outside systems should not see).

/** The largest answer a host sends; a bigger state is refused as StateTooLarge (NATS's default max payload is 1 MiB). */
export const MAX_STATE_BYTES = 900 * 1024;

export const stateSubject = (prefix: string, category: string, id: string): string => `${prefix}.state.${category}.${id}`;

export type StateQueryErrorCode = 'InvalidId' | 'StateTooLarge' | 'Internal';

export type StateAnswer =
  /** `revision`: the stream's last revision the state folds, null while the stream does not exist. */
  | { readonly status: 'ok'; readonly revision: string | null; readonly state: unknown }
  | { readonly status: 'error'; readonly code: StateQueryErrorCode; readonly message: string };
