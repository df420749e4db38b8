import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { taskTypes } from '../../adapters/executors/registry.ts';
import { buildPolicy, defaultPolicy, type Policy, type PolicyProblem, type PolicySettings } from '../../domain/policy/index.ts';
import { workflowTemplates } from '../../domain/workflow/index.ts';
import { ConfigError } from '../config/load-config.ts';
import type { Config } from '../config/schema.ts';

// ORCH_POLICY_FILE read once at start: YAML (.yaml, .yml) or JSON (.json), validated with every
// problem listed (file, path, message). An unusable file stops the process from starting, like
// any other configuration error: running with a policy other than the one written is worse.

/** Thrown at start when the policy file cannot be used; a ConfigError so start-up reports it the same way. */
export class PolicyError extends ConfigError {}

const problem = (file: string, where: string, message: string) => ({ variable: 'ORCH_POLICY_FILE', problem: `${file}: ${where}: ${message}` });

export function policySettings(config: Config): PolicySettings {
  return {
    approvers: config.workflows.approvers,
    requesterMayApprove: config.workflows.requesterMayApprove,
    admins: config.policy.admins,
    knownTaskTypes: taskTypes,
    knownTemplates: workflowTemplates.map((t) => t.id),
  };
}

/** The file's content as data, or the problems that keep it from being read. */
function readPolicyFile(file: string): { data: unknown } | { problems: PolicyProblem[] } {
  const extension = path.extname(file).toLowerCase();
  if (!['.json', '.yaml', '.yml'].includes(extension))
    return { problems: [{ path: '(file)', message: `must end in .yaml, .yml or .json (got "${extension || 'no extension'}")` }] };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return { problems: [{ path: '(file)', message: `could not be read (${(error as NodeJS.ErrnoException).code ?? String(error)})` }] };
  }
  if (extension === '.json') {
    try {
      return { data: JSON.parse(text) };
    } catch (error) {
      return { problems: [{ path: '(json)', message: (error as Error).message }] };
    }
  }
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0)
    return {
      problems: document.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}` : '(yaml)',
        message: e.message.split('\n')[0]!.replace(/:$/, ''),
      })),
    };
  return { data: document.toJS() };
}

/** The policy from ORCH_POLICY_FILE, or the defaults without one; throws PolicyError naming every problem. */
export function loadPolicy(config: Config): Policy {
  const settings = policySettings(config);
  const file = config.policy.file;
  if (file === undefined) return defaultPolicy(settings);
  const read = readPolicyFile(file);
  if ('problems' in read) throw new PolicyError(read.problems.map((p) => problem(file, p.path, p.message)));
  const built = buildPolicy(read.data, settings, file);
  if (built._tag === 'Left') throw new PolicyError(built.left.problems.map((p) => problem(file, p.path, p.message)));
  return built.right;
}

const loaded = new WeakMap<Config, Policy>();

/** The policy of this configuration, read once per process. */
export function policyFor(config: Config): Policy {
  const known = loaded.get(config);
  if (known) return known;
  const policy = loadPolicy(config);
  loaded.set(config, policy);
  return policy;
}

/** Replaces this configuration's policy (once its Slack user groups are resolved). */
export function usePolicy(config: Config, policy: Policy): void {
  loaded.set(config, policy);
}

/** Looks up the members of a Slack user group (`S…`), e.g. through usergroups.users.list. */
export type UserGroupLookup = (groupId: string) => Promise<readonly string[]>;

const SLACK_USER_GROUP = /^S[A-Z0-9]{2,}$/;

/**
 * The policy with every Slack user group it names resolved into `groups`, keyed by its id, so
 * the evaluation (pure) sees its members. Optional: inline groups need no lookup. A group that
 * cannot be looked up keeps no members (it allows nobody), and the failure is returned to log.
 */
export async function resolveSlackUserGroups(policy: Policy, lookup: UserGroupLookup): Promise<{ policy: Policy; failed: string[]; resolved: string[] }> {
  const lists = [
    ...Object.values(policy.groups),
    ...Object.values(policy.roles),
    policy.start['read-only'],
    policy.start['code-change'],
    ...policy.deploy.targets.map((t) => t.who),
    policy.deploy.otherOrgs,
    ...Object.values(policy.templates),
    ...Object.values(policy.taskTypes),
    ...Object.values(policy.gates).map((g) => g.approvers),
  ];
  const ids = [...new Set(lists.flat().filter((id) => SLACK_USER_GROUP.test(id)))];
  const groups: Record<string, readonly string[]> = { ...policy.groups };
  const failed: string[] = [];
  for (const id of ids) {
    try {
      groups[id] = await lookup(id);
    } catch {
      groups[id] = [];
      failed.push(id);
    }
  }
  return { policy: { ...policy, groups }, failed, resolved: ids.filter((id) => !failed.includes(id)) };
}
