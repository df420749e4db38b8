// What the authorization policy decides about approval gates, in the shape compiling a workflow
// needs. The policy (domain/policy) produces these; compile and the decider consume them, so a
// gate's approvers and quorum come from the deployment's rules, never from a model or a payload.

/** What a step does to the world outside, by its task type and parameters. */
export type SideEffectClass = 'read-only' | 'code-change' | 'deploy';

/** Gates are required per kind of risk: a deploy, a code change, spend over a cap. */
export type GateKind = 'deploy' | 'code-change' | 'cost';

export interface GateRequirement {
  readonly kind: GateKind;
  /** Who may decide; empty means anyone (still a person, through a verified front end). */
  readonly approvers: readonly string[];
  /** Distinct approvers needed. */
  readonly quorum: number;
  /** False: the requester's grant counts only beside someone else's. */
  readonly requesterMayApprove: boolean;
  readonly timeoutMs?: number;
  readonly reminderBeforeMs?: number;
}

/** Per kind, the gate the policy puts in front of a side-effecting step that has none. */
export type GateRequirements = Readonly<Record<GateKind, GateRequirement>>;

/** The gate kind a side-effecting class of step needs; read-only steps need none. */
export const gateKindFor = (sideEffect: SideEffectClass): GateKind | undefined =>
  sideEffect === 'deploy' ? 'deploy' : sideEffect === 'code-change' ? 'code-change' : undefined;

/** What a step of this task type with these parameters does outside; the registry's answer, injected so domain/ stays pure. */
export type SideEffectClassifier = (taskType: string, params: Readonly<Record<string, unknown>>) => SideEffectClass;
