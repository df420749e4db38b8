import type { CommandDataOf, CommandTypeOf } from '../domain/commands/catalog.ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import {
  applyGatePolicy,
  gateApprovers,
  mayCancel,
  mayStart,
  workflowSteps,
  type ClassifyTask,
  type Policy,
  type PolicyRefusal,
} from '../domain/policy/index.ts';
import type { Logger } from 'pino';
import { isValidId } from '../domain/streams.ts';
import {
  compileTemplate,
  describeWorkflowStatus,
  templateById,
  workflowTemplates,
  type CompiledWorkflow,
  type Registry,
  type SuppliedValues,
} from '../domain/workflow/index.ts';
import type { AggregateStateClient } from './runtime/aggregate-state-client.ts';
import type { CommandClient } from './runtime/command-client.ts';
import type { CommandReply } from './runtime/command-envelope.ts';
import type { SlashAnswer, SlashHandler, SlashRequest } from './slash-command-types.ts';
import { describeTemplates, describeWorkflow } from './workflow-text.ts';

// `/workflow list | start | status | cancel`: templates are compiled here against the task types
// this deployment's workers run, and started, read and cancelled through the Workflow aggregate.
// The person who typed the command is the workflow's requester and the commands' actor.

export interface WorkflowDesk {
  /** Sends to `<prefix>.cmd.workflow.<id>`; the prefix is the client's. */
  readonly commands: CommandClient;
  /** Workflows' current states, from their aggregate host. */
  readonly states: AggregateStateClient;
  readonly logger: Logger;
  /** The task types workers here run, and which of them change things outside. */
  readonly registry: Registry;
  /** WORKFLOW_MAX_EXECUTION_TIME: how long a workflow started here may run. */
  readonly maxExecutionMs: number;
  /** A fresh workflow id; `wf-` and 8 hex digits unless given. */
  readonly newWorkflowId?: () => string;
  /** DRY_RUN: every workflow started here is a dry run. */
  readonly dryRun?: boolean;
  /** The deployment's checks of a compiled request (task types, pools, parameters, workspace paths), answered before anything is sent. */
  readonly checkRequest?: (definition: CompiledWorkflow) => Promise<{ readonly code: string; readonly message: string } | undefined>;
  /** Who may start and cancel what, and whom gates may name; without one only the deciders' rules apply. */
  readonly policy?: { readonly rules: Policy; readonly classify: ClassifyTask };
}

const ephemeral = (text: string): SlashAnswer => ({ text, visibility: 'ephemeral' });

export const newWorkflowId = (): string => `wf-${crypto.randomUUID().slice(0, 8)}`;

/** Up to this many fresh ids when one is already taken (8 hex digits rarely collide). */
const ID_ATTEMPTS = 3;

/** `key=value` words into template values; a list parameter's `a,b` is split by the template. */
export function parseTemplateValues(words: readonly string[]): { values: SuppliedValues; problems: string[] } {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq <= 0) {
      problems.push(`"${word}" is not key=value`);
      continue;
    }
    const key = word.slice(0, eq);
    if (Object.hasOwn(values, key)) problems.push(`"${key}" is given twice`);
    else values[key] = word.slice(eq + 1);
  }
  return { values, problems };
}

export function workflowSubcommands(desk: WorkflowDesk): Readonly<Record<'list' | 'start' | 'status' | 'cancel', SlashHandler>> {
  const nextId = desk.newWorkflowId ?? newWorkflowId;

  /** `authorization`: the policy rule that let the user do this, recorded on the events. */
  const send = <T extends CommandTypeOf<'workflow'>>(
    id: string,
    type: T,
    request: SlashRequest,
    data: CommandDataOf<'workflow', T>,
    authorization?: string,
  ): Promise<CommandReply> =>
    desk.commands.send(
      { category: 'workflow', id },
      { commandId: crypto.randomUUID(), type, actor: request.user, correlationId: id, data, ...(authorization !== undefined && { authorization }) },
    );

  const failure = (reply: Exclude<CommandReply, { status: 'accepted' }>): string =>
    reply.status === 'invalid' ? `InvalidCommand: ${reply.errors.join('; ')}` : `${reply.code}: ${reply.message}`;

  const notAuthorized = (what: string, refused: PolicyRefusal): SlashAnswer => ephemeral(`${what}: NotAuthorized: ${refused.message}`);

  /** The policy before anything is sent: may this person start it, and its gates held to the policy's approvers. */
  const police = (
    templateId: string,
    definition: CompiledWorkflow,
    request: SlashRequest,
  ): { definition: CompiledWorkflow; rule?: string } | { refused: PolicyRefusal } => {
    if (!desk.policy) return { definition };
    const { rules, classify } = desk.policy;
    const may = mayStart(rules, { actor: request.user, template: templateId, steps: workflowSteps(definition, classify) });
    if (isLeft(may)) return { refused: may.left };
    const gated = applyGatePolicy(rules, definition, classify);
    return isLeft(gated) ? { refused: gated.left } : { definition: gated.right, rule: may.right.rule };
  };

  const list: SlashHandler = async () => ephemeral(describeTemplates(workflowTemplates, desk.registry));

  const startCompiled = async (
    templateId: string,
    definition: CompiledWorkflow,
    values: SuppliedValues,
    request: SlashRequest,
    dryRun: boolean,
    rule?: string,
  ): Promise<{ id: string; reply: CommandReply }> => {
    const data = {
      definition,
      inputs: Object.fromEntries(Object.entries(values).map(([name, value]) => [name, typeof value === 'string' ? value : [...value]])),
      requestedBy: request.user,
      maxExecutionMs: desk.maxExecutionMs,
      dryRun,
      source: { kind: 'template' as const, templateId },
    };
    for (let attempt = 1; ; attempt++) {
      const id = nextId();
      const reply = await send(id, 'StartWorkflow', request, data, rule);
      if (reply.status !== 'rejected' || reply.code !== 'WorkflowAlreadyStarted' || attempt >= ID_ATTEMPTS) return { id, reply };
    }
  };

  const start: SlashHandler = async ([templateId, ...given], request) => {
    if (templateId === undefined) return ephemeral('Which template? /workflow start <template> [--dry-run] [key=value ...]; /workflow list shows them.');
    // A dry run records the side-effecting steps it would run instead of running them (DRY_RUN=true: every workflow).
    const dryRun = given.includes('--dry-run') || desk.dryRun === true;
    const words = given.filter((word) => word !== '--dry-run');
    const { values, problems } = parseTemplateValues(words);
    if (problems.length > 0)
      return ephemeral(
        [`Cannot start ${templateId}:`, ...problems.map((p) => `• ${p}`), 'Values are given as key=value, quoted when they hold spaces: key="a b".'].join('\n'),
      );
    const compiled = compileTemplate(templateId, values, desk.registry);
    if (isLeft(compiled)) return ephemeral([`Cannot start ${templateId}:`, ...compiled.left.map((e) => `• ${e.code}: ${e.message}`)].join('\n'));
    const unfit = await desk.checkRequest?.(compiled.right);
    if (unfit) return ephemeral(`Cannot start ${templateId}:\n• ${unfit.code}: ${unfit.message}`);
    const policed = police(templateId, compiled.right, request);
    if ('refused' in policed) return notAuthorized(`Workflow ${templateId} was not started`, policed.refused);
    try {
      const { id, reply } = await startCompiled(templateId, policed.definition, values, request, dryRun, policed.rule);
      if (reply.status !== 'accepted') return ephemeral(`Workflow ${templateId} was not started: ${failure(reply)}`);
      const how = dryRun ? ' as a dry run: steps that change something outside are recorded, not run' : '';
      return ephemeral(
        `Started workflow ${id} (${templateById(templateId)!.title})${how}. /workflow status ${id} shows how it goes; /workflow cancel ${id} stops it.`,
      );
    } catch (error) {
      desk.logger.error({ err: error, templateId }, 'starting a workflow failed');
      return ephemeral(`Workflow ${templateId} could not be started: ${(error as Error).message}`);
    }
  };

  const noWorkflow = (id: string): SlashAnswer => ephemeral(`No workflow ${id}.`);

  const status: SlashHandler = async ([id]) => {
    if (id === undefined) return ephemeral('Which workflow? /workflow status <id>');
    if (!isValidId(id)) return noWorkflow(id);
    try {
      const state = await desk.states.read('workflow', id);
      return state.status === 'none' ? noWorkflow(id) : ephemeral(describeWorkflow(state));
    } catch (error) {
      desk.logger.error({ err: error, workflowId: id }, 'reading a workflow failed');
      return ephemeral(`Workflow ${id} could not be read: ${(error as Error).message}`);
    }
  };

  const alreadyFinished = async (id: string): Promise<SlashAnswer> => {
    const state = await desk.states.read('workflow', id);
    const how = state.status === 'none' ? '' : ` (${describeWorkflowStatus(state.status)})`;
    return ephemeral(`Workflow ${id} has already finished${how}; there is nothing to cancel.`);
  };

  const cancel: SlashHandler = async ([id], request) => {
    if (id === undefined) return ephemeral('Which workflow? /workflow cancel <id>');
    if (!isValidId(id)) return noWorkflow(id);
    try {
      let rule: string | undefined;
      if (desk.policy) {
        const state = await desk.states.read('workflow', id);
        if (state.status === 'none') return noWorkflow(id);
        const may = mayCancel(desk.policy.rules, request.user, { requestedBy: state.requestedBy, approvers: gateApprovers(state.definition) });
        if (isLeft(may)) return notAuthorized(`Workflow ${id} was not cancelled`, may.left);
        rule = may.right.rule;
      }
      const reply = await send(id, 'CancelWorkflow', request, { reason: `cancelled by ${request.user} with /workflow cancel` }, rule);
      if (reply.status === 'accepted') return reply.events > 0 ? ephemeral(`Cancelled workflow ${id}.`) : alreadyFinished(id);
      if (reply.status === 'rejected' && (reply.code === 'NotFound' || reply.code === 'WorkflowNotFound')) return noWorkflow(id);
      if (reply.status === 'rejected' && reply.code === 'WorkflowAlreadyFinished') return alreadyFinished(id);
      return ephemeral(`Workflow ${id} was not cancelled: ${failure(reply)}`);
    } catch (error) {
      desk.logger.error({ err: error, workflowId: id }, 'cancelling a workflow failed');
      return ephemeral(`Workflow ${id} could not be cancelled: ${(error as Error).message}`);
    }
  };

  return { list, start, status, cancel };
}
