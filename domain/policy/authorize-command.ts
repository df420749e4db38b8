import { left, type Either } from 'fp-ts/lib/Either.js';
import type { GateKind, SideEffectClass } from '../workflow/gate-policy.ts';
import { mayApprove, mayCancel, mayStart, type CancelTarget, type WorkStep } from './evaluate.ts';
import { refusal, type Policy, type PolicyDecision, type PolicyRefusal } from './policy.ts';

// The policy for commands that arrive from outside producers through the command gateway, whose
// actor (`api:<name>`) comes from the credential they connected with. API identities are never
// covered by '*': the policy must name them (directly, in a group or in a role). Anything the
// gateway forwards beyond the commands below is refused.

export interface CommandToAuthorize {
  readonly actor: string;
  readonly category: string;
  readonly type: string;
  readonly data: unknown;
  /** What the work does outside, when the caller worked it out (the registry knows); unknown counts as a deploy. */
  readonly sideEffect?: SideEffectClass;
  readonly targetOrg?: string;
  /** The steps of a workflow to start, when the caller classified them; more precise than `sideEffect`. */
  readonly steps?: readonly WorkStep[];
  /** The kind of gate an approval decides; unknown counts as a deploy gate. */
  readonly gateKind?: GateKind;
  /** For cancels: who started it and who approves its gates; without it only admins may cancel. */
  readonly target?: CancelTarget;
}

const field = (data: unknown, name: string): unknown =>
  typeof data === 'object' && data !== null && Object.hasOwn(data, name) ? (data as Record<string, unknown>)[name] : undefined;
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export function authorizeCommand(policy: Policy, command: CommandToAuthorize): Either<PolicyRefusal, PolicyDecision> {
  const { actor } = command;
  const sideEffect = command.sideEffect ?? 'deploy';
  switch (command.type) {
    case 'StartWorkflow': {
      const template = text(field(field(command.data, 'source'), 'templateId'));
      const steps = command.steps ?? [{ taskType: '(workflow)', sideEffect, targetOrg: command.targetOrg }];
      return mayStart(policy, { actor, template, steps });
    }
    case 'QueueTask': {
      const taskType = text(field(command.data, 'taskType')) ?? '(unknown)';
      // A lone task has no gate in front of it: work that changes things goes in a workflow, whose
      // compile puts the policy's gate before it.
      if (sideEffect !== 'read-only')
        return left(
          refusal(
            'gates.required',
            `${taskType} ${sideEffect === 'deploy' ? 'deploys' : 'changes code'}; start it as a workflow, where it waits for an approval gate, not as a lone task`,
          ),
        );
      const targetOrg = command.targetOrg ?? text(field(field(command.data, 'payload'), 'targetOrg'));
      return mayStart(policy, { actor, steps: [{ taskType, sideEffect, targetOrg }] });
    }
    case 'GrantApproval':
    case 'RejectApproval':
      return mayApprove(policy, actor, command.gateKind ?? 'deploy');
    case 'CancelWorkflow':
    case 'CancelTask':
      return mayCancel(policy, actor, command.target ?? { requestedBy: '', approvers: [] });
    default:
      return left(refusal(`commands.${command.type}`, `${command.type} is not open to outside producers`));
  }
}
