// Claude Code's headless output. `claude -p … --output-format stream-json --verbose` prints one
// JSON message per line: `system` (subtype `init` with session_id, model and tools; `api_retry`
// while the API is overloaded or rate limited), `assistant` and `user` messages carrying Messages
// API content blocks (text, tool_use, tool_result), and last a `result` message: subtype
// (`success`, `error_max_turns`, `error_during_execution`, `error_max_budget_usd`…), is_error,
// result (the final text), total_cost_usd, usage {input_tokens, output_tokens, cache_*}, num_turns,
// session_id, permission_denials, errors, and structured_output when `--json-schema` was given.
// `--output-format json` prints only that result message. Every field is read defensively: the
// CLI adds fields between versions, and older versions called the cost `cost_usd`.

export interface ClaudeUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cacheReadInputTokens: number;
  readonly cacheCreationInputTokens: number;
}

export interface ClaudeResultMessage {
  readonly subtype: string;
  readonly isError: boolean;
  /** The final answer's text ('' when the CLI gave none). */
  readonly text: string;
  readonly errors: readonly string[];
  readonly costUsd: number | null;
  readonly usage: ClaudeUsage | null;
  readonly turns: number | null;
  readonly sessionId: string | null;
  readonly durationMs: number | null;
  readonly permissionDenials: number;
  /** `structured_output` (present with `--json-schema`). */
  readonly structured: unknown;
}

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const numberOr = (value: unknown, fallback: number | null): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : fallback);
const count = (value: unknown): number => numberOr(value, 0) ?? 0;

/** Longer than this, a line was cut into pieces by the output capture (see process.ts). */
const PIECE_CHARS = 64 * 1024;
/** A single message larger than this is dropped rather than buffered. */
const MAX_MESSAGE_CHARS = 8 * 1024 * 1024;

function readUsage(value: unknown): ClaudeUsage | null {
  if (!isRecord(value)) return null;
  return {
    inputTokens: count(value['input_tokens']),
    outputTokens: count(value['output_tokens']),
    cacheReadInputTokens: count(value['cache_read_input_tokens']),
    cacheCreationInputTokens: count(value['cache_creation_input_tokens']),
  };
}

function readResultMessage(message: Json): ClaudeResultMessage {
  const errors = Array.isArray(message['errors']) ? message['errors'].filter((e): e is string => typeof e === 'string') : [];
  return {
    subtype: typeof message['subtype'] === 'string' ? message['subtype'] : 'unknown',
    isError: message['is_error'] === true,
    text: typeof message['result'] === 'string' ? message['result'] : '',
    errors,
    costUsd: numberOr(message['total_cost_usd'], numberOr(message['cost_usd'], null)),
    usage: readUsage(message['usage']),
    turns: numberOr(message['num_turns'], null),
    sessionId: typeof message['session_id'] === 'string' ? message['session_id'] : null,
    durationMs: numberOr(message['duration_ms'], null),
    permissionDenials: Array.isArray(message['permission_denials']) ? message['permission_denials'].length : 0,
    structured: message['structured_output'],
  };
}

/** What a tool call is about, for the progress line: `Edit src/a.ts`, `Bash npm test`. */
function describeToolUse(block: Json): string {
  const name = typeof block['name'] === 'string' ? block['name'] : 'tool';
  const input = isRecord(block['input']) ? block['input'] : {};
  const target = [input['file_path'], input['path'], input['pattern'], input['command']].find((v): v is string => typeof v === 'string');
  const text = target === undefined ? name : `${name} ${target.replace(/\s+/g, ' ')}`;
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

/**
 * Reads Claude Code's stdout line by line (stream-json or json): keeps the result message and
 * counts what progress can show. `push` returns true when a new assistant step was seen.
 */
export class ClaudeOutputReader {
  result: ClaudeResultMessage | undefined;
  sessionId: string | undefined;
  /** Assistant steps (API responses) so far. */
  steps = 0;
  toolUses = 0;
  outputTokens = 0;
  lastActivity: string | undefined;
  /** The kind of error of the CLI's latest API retry (`rate_limit`, `server_error`, …). */
  lastRetryError: string | undefined;
  private readonly messageIds = new Set<string>();
  private partial = '';

  push(line: string): boolean {
    const text = this.partial + line;
    let message: unknown;
    try {
      message = JSON.parse(text);
      this.partial = '';
    } catch {
      // A piece of a line longer than the capture's line limit: wait for the rest.
      this.partial = line.length >= PIECE_CHARS && text.length < MAX_MESSAGE_CHARS ? text : '';
      return false;
    }
    return isRecord(message) ? this.read(message) : false;
  }

  private read(message: Json): boolean {
    if (typeof message['session_id'] === 'string') this.sessionId = message['session_id'];
    switch (message['type']) {
      case 'result':
        this.result = readResultMessage(message);
        return false;
      case 'system':
        if (message['subtype'] === 'api_retry' && typeof message['error'] === 'string') this.lastRetryError = message['error'];
        return false;
      case 'assistant':
        return this.readAssistant(message);
      default:
        return false;
    }
  }

  private readAssistant(message: Json): boolean {
    const body = isRecord(message['message']) ? message['message'] : {};
    // The CLI splits one API response into a message per content block, all with its id.
    const id = typeof body['id'] === 'string' ? body['id'] : undefined;
    const isNewStep = id === undefined || !this.messageIds.has(id);
    if (id !== undefined) this.messageIds.add(id);
    if (isNewStep) {
      this.steps++;
      this.outputTokens += count(readUsage(body['usage'])?.outputTokens);
    }
    const content = Array.isArray(body['content']) ? body['content'].filter(isRecord) : [];
    for (const block of content) {
      if (block['type'] === 'tool_use') {
        this.toolUses++;
        this.lastActivity = describeToolUse(block);
      } else if (block['type'] === 'text') {
        this.lastActivity = 'writing';
      }
    }
    return true;
  }
}

const MAX_ANSWER_CHARS = 64 * 1024;

/**
 * The named values of an answer, for workflow conditions (`steps.prioritize.output.highPriorityCount`):
 * the structured output when the CLI gave one, else the JSON object of the answer's last ```json
 * block, else the whole answer when it is a JSON object. Undefined when there is none or it is
 * larger than 64 KiB.
 */
export function answerValues(text: string, structured: unknown): Json | undefined {
  const candidates: unknown[] = [structured];
  const blocks = [...text.matchAll(/```json[^\n]*\n([\s\S]*?)```/g)].map((m) => m[1]!);
  for (const source of [blocks.at(-1), text.trim()]) {
    if (source === undefined || !source.trim().startsWith('{')) continue;
    try {
      candidates.push(JSON.parse(source));
    } catch {
      // Not JSON after all: the answer stays text only.
    }
  }
  const found = candidates.find(isRecord);
  if (found === undefined || JSON.stringify(found).length > MAX_ANSWER_CHARS) return undefined;
  return found;
}
