import { type Command, InvalidArgumentError, Option } from 'commander';
import { isLeft, type Either } from 'fp-ts/lib/Either.js';
import { sideEffectClassFor } from '../../adapters/executors/registry.ts';
import { mayApprove, mayCancel, mayStart, workflowSteps, type PolicyDecision, type PolicyRefusal, type WorkStep } from '../../domain/policy/index.ts';
import type { GateKind, SideEffectClass } from '../../domain/workflow/gate-policy.ts';
import { compileTemplate, templateById } from '../../domain/workflow/index.ts';
import { loadConfig } from '../config/load-config.ts';
import { prettyJson } from '../../domain/replies/format.ts';
import { UserError } from '../cli/user-error.ts';
import { gatedRegistry } from '../gate-requirements.ts';
import { classifyTask } from './classify-task.ts';
import { loadPolicy } from './load-policy.ts';

// `orch policy check <user> <action>`: what the policy in ORCH_POLICY_FILE (or the defaults)
// says about one person doing one thing, with the rule that decides it. Exit 0 allowed, 1 refused.

const ACTIONS = ['start', 'approve', 'cancel'] as const;
type Action = (typeof ACTIONS)[number];

interface CheckOptions {
  template?: string;
  taskType?: string;
  class?: SideEffectClass;
  org?: string;
  gateKind: GateKind;
  requestedBy?: string;
  json?: boolean;
}

const actionArg = (value: string): Action => {
  if (!(ACTIONS as readonly string[]).includes(value)) throw new InvalidArgumentError(`one of ${ACTIONS.join(', ')}`);
  return value as Action;
};

/** A template's steps as the policy sees them; parameters not given are filled with a stand-in. */
function templateSteps(templateId: string, org: string | undefined): WorkStep[] {
  const template = templateById(templateId);
  if (!template) throw new UserError(`no template "${templateId}"`);
  const values = Object.fromEntries(
    Object.entries(template.parameters)
      .filter(([name, p]) => p.default === undefined || name === 'targetOrg')
      .map(([name]) => [name, name === 'targetOrg' ? (org ?? 'default') : 'example']),
  );
  const compiled = compileTemplate(templateId, values, gatedRegistry(loadConfig()));
  if (isLeft(compiled)) throw new UserError(`template ${templateId} does not compile: ${compiled.left.map((e) => e.message).join('; ')}`);
  return workflowSteps(compiled.right, classifyTask);
}

function check(user: string, action: Action, options: CheckOptions): Either<PolicyRefusal, PolicyDecision> {
  const policy = loadPolicy(loadConfig());
  switch (action) {
    case 'start': {
      if (options.template === undefined && options.taskType === undefined) throw new UserError('start needs --template or --task-type');
      const steps: WorkStep[] = [
        ...(options.template !== undefined ? templateSteps(options.template, options.org) : []),
        ...(options.taskType !== undefined
          ? [{ taskType: options.taskType, sideEffect: options.class ?? sideEffectClassFor(options.taskType, {}), targetOrg: options.org }]
          : []),
      ];
      return mayStart(policy, { actor: user, template: options.template, steps });
    }
    case 'approve':
      return mayApprove(policy, user, options.gateKind);
    case 'cancel':
      return mayCancel(policy, user, { requestedBy: options.requestedBy ?? '', approvers: [] });
  }
}

export function registerPolicyCommands(cli: Command): void {
  const policy = cli.command('policy').description('the authorization policy (ORCH_POLICY_FILE, or the defaults)');
  policy
    .command('check')
    .description('whether <user> may start, approve or cancel, and the rule that decides it (exit 0 allowed, 1 refused)')
    .argument('<user>', 'a Slack user id (U…), the console operator, or api:<name>')
    .argument('<action>', `one of ${ACTIONS.join(', ')}`, actionArg)
    .option('--template <id>', 'start: a workflow template')
    .option('--task-type <type>', 'start: a task type')
    .addOption(new Option('--class <class>', 'start: what the task type does (default: the most it could do)').choices(['read-only', 'code-change', 'deploy']))
    .option('--org <org>', 'start: the target org of a deploy')
    .addOption(new Option('--gate-kind <kind>', 'approve: the kind of gate').choices(['deploy', 'code-change', 'cost']).default('deploy'))
    .option('--requested-by <user>', 'cancel: who started the workflow (default: someone else)')
    .option('--json', 'one JSON object: allowed, rule, message')
    .action((user: string, action: Action, options: CheckOptions) => {
      const result = check(user, action, options);
      const allowed = !isLeft(result);
      const rule = isLeft(result) ? result.left.rule : result.right.rule;
      const message = isLeft(result) ? result.left.message : `${user} may ${action} (rule ${rule})`;
      console.log(options.json ? prettyJson({ allowed, rule, message }) : `${allowed ? 'allowed' : 'refused'}: ${message}`);
      if (!allowed) process.exitCode = 1;
    });
}
