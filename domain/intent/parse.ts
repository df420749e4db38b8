import { left, map, type Either } from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { match } from 'ts-pattern';
import type { JsonValue } from '../conversation/events.ts';
import type { ChatPhrasing } from '../task-types/descriptor.ts';
import {
  capabilitiesOf,
  repositoryNotGiven,
  requestNotUnderstood,
  REPOSITORY_VARIABLE,
  type Capability,
  type ChatTaskType,
  type Intent,
  type NotUnderstood,
} from './intent.ts';
import { checkRepositoryName } from './repository-name.ts';

// The offline planner path: the phrasings each registered task type's descriptor gives, read the
// way people type them in Slack (mentions, politeness, quotes, smart apostrophes). A request that
// names no repository uses the thread's current one, which is what makes "now run the tests"
// work. Pure: the caller queues the task and sets the context variables.

/** The thread's Conversation context variables (`conversation.context` can be passed as is). */
export type IntentContext = Readonly<Record<string, JsonValue | undefined>>;

/** A verb phrase, then optionally whatever names the target. */
const phrase = (verb: string): RegExp => new RegExp(String.raw`^(?:${verb})(?:\s+(?<rest>.*))?$`, 'i');

interface Rule {
  readonly taskType: string;
  readonly chat: ChatPhrasing;
  readonly pattern: RegExp;
}

interface Reader {
  /** In registration order, each type's phrasings in its order: the first match wins where phrasings overlap. */
  readonly rules: readonly Rule[];
  readonly capabilities: readonly Capability[];
}

// A registry is one list for the life of the process: its phrasings are compiled once.
const readers = new WeakMap<readonly ChatTaskType[], Reader>();

function readerOf(taskTypes: readonly ChatTaskType[]): Reader {
  const known = readers.get(taskTypes);
  if (known) return known;
  const rules = taskTypes.flatMap(({ taskType, chat }) => (chat ? chat.phrases.map((verb) => ({ taskType, chat, pattern: phrase(verb) })) : []));
  const reader = { rules, capabilities: capabilitiesOf(taskTypes) };
  readers.set(taskTypes, reader);
  return reader;
}

const LEADING_FILLER =
  /^(?:hey|hi|hello|ok|okay|so|and|then|now|please|pls|kindly|just|also|can\s+you|could\s+you|would\s+you|will\s+you|go\s+ahead\s+and|let's|lets)\b[\s,]*/i;
const TRAILING_FILLER = /[\s,]+(?:please|pls|for\s+me|again|now|too|as\s+well|thanks|thank\s+you)$/i;
/** Words between the verb and the name: "the tests in the repo `acme`". */
const TARGET_PREFIX = /^(?:of|in|for|on|at|from|inside|within|under|the|my|our|repo|repository|project|codebase|code\s*base|code|folder|directory|dir)\s+/i;
/** "the acme repo" */
const TARGET_SUFFIX = /\s+(?:repo|repository|project|codebase|code\s*base|folder|directory|dir)$/i;
/** A target made only of these means "the one we are talking about". */
const REFERENCE_WORDS = new Set([
  'it',
  'this',
  'that',
  'these',
  'same',
  'one',
  'there',
  'here',
  'the',
  'repo',
  'repository',
  'project',
  'codebase',
  'code',
  'folder',
  'directory',
  'dir',
]);
const QUOTE_PAIRS: readonly (readonly [string, string])[] = [
  ['```', '```'],
  ['`', '`'],
  ['"', '"'],
  ["'", "'"],
  ['*', '*'],
];

/** Slack's message markup reduced to what a person typed. */
function plainText(text: string): string {
  return text
    .replace(/<[@!][^>]*>/g, ' ') // user mentions and <!here>
    .replace(/<#[A-Z0-9]+\|([^>]*)>/g, '#$1')
    .replace(/<([^>|]+)\|([^>]*)>/g, '$2') // auto-linked text, e.g. a repo name that looks like a domain
    .replace(/<([^>]+)>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/[‘’]/g, "'")
    .replace(/[“”]/g, '"');
}

function stripRepeatedly(text: string, pattern: RegExp): string {
  for (let current = text; ;) {
    const next = current.replace(pattern, '').trim();
    if (next === current) return current;
    current = next;
  }
}

function normalize(text: string): string {
  const collapsed = plainText(text)
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[.!?,;:]+$/, '');
  return stripRepeatedly(stripRepeatedly(collapsed, LEADING_FILLER), TRAILING_FILLER).replace(/[.!?,;:]+$/, '');
}

function unquote(text: string): string {
  for (const [open, close] of QUOTE_PAIRS) {
    if (text.length > open.length + close.length && text.startsWith(open) && text.endsWith(close))
      return unquote(text.slice(open.length, -close.length).trim());
  }
  return text;
}

type Target = { readonly kind: 'context' } | { readonly kind: 'named'; readonly name: string } | { readonly kind: 'unclear' };

function parseTarget(rest: string): Target {
  const words = stripRepeatedly(stripRepeatedly(rest.trim(), TARGET_PREFIX), TARGET_SUFFIX);
  if (words === '' || words.split(' ').every((w) => REFERENCE_WORDS.has(w.toLowerCase()))) return { kind: 'context' };
  const name = unquote(words);
  return /\s/.test(name) ? { kind: 'unclear' } : { kind: 'named', name };
}

const intent =
  (rule: Rule, repositoryFrom: Intent['repositoryFrom']) =>
  (repository: string): Intent => ({
    taskType: rule.taskType,
    params: { repository },
    setContext: { [REPOSITORY_VARIABLE]: repository },
    repositoryFrom,
    summary: rule.chat.summary(repository),
  });

/**
 * Maps a chat request to a registered task type and its parameters, or says why not (with
 * what it can do). `context` is the thread's context variables; `currentRepo` fills in a
 * request that names no repository. `taskTypes` is the registry: the types whose descriptors
 * give chat phrasings are the ones understood.
 */
export function parseIntent(text: string, context: IntentContext, taskTypes: readonly ChatTaskType[]): Either<NotUnderstood, Intent> {
  const { rules, capabilities } = readerOf(taskTypes);
  const request = normalize(text);
  const matched = rules.map((rule) => ({ rule, found: rule.pattern.exec(request) })).find((r) => r.found !== null);
  if (matched === undefined) return left(requestNotUnderstood(request, capabilities));
  const { rule } = matched;
  const current = context[REPOSITORY_VARIABLE];
  const checked = (name: string) => checkRepositoryName(rule.taskType, name, capabilities);

  return match(parseTarget(matched.found?.groups?.rest ?? ''))
    .with({ kind: 'named' }, ({ name }) => pipe(checked(name), map(intent(rule, 'request'))))
    .with({ kind: 'context' }, () =>
      typeof current === 'string' && current !== ''
        ? pipe(checked(current), map(intent(rule, 'context')))
        : left(repositoryNotGiven(rule.taskType, rule.chat.summary('my-service'), capabilities)),
    )
    .with({ kind: 'unclear' }, () => left(requestNotUnderstood(request, capabilities)))
    .exhaustive();
}
