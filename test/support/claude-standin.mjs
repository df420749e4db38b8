#!/usr/bin/env node
// A stand-in for the Claude Code CLI in headless mode, for tests: `claude -p <prompt>
// --output-format text|json|stream-json [--verbose] [--permission-mode m] [--allowedTools a,b]
// [--disallowedTools c,d] [--append-system-prompt s] [--max-turns n] [--model m]`. It prints what
// the real CLI prints: with stream-json a `system` init message, `assistant` / `user` messages
// (a Read tool call, and an Edit when asked to edit) and the `result` message; with json only the
// result message; with text only the result text. Unknown options, a missing -p, or stream-json
// without --verbose are refused as the real CLI refuses them (exit 1, message on stderr).
//
// Steered by environment variables:
//   CLAUDE_STANDIN_LOG       file to append one JSON line per invocation to:
//                            { argv, cwd, pid, time, env } (env: names of the ANTHROPIC_* /
//                            CLAUDE_* / SLACK_* variables it was given, never their values)
//   CLAUDE_STANDIN_RESULT    the result text (default "Done.")
//   CLAUDE_STANDIN_EDIT      a path relative to the working folder to write, as an Edit tool
//                            call; only done when --permission-mode is acceptEdits or
//                            bypassPermissions, else recorded as a permission denial
//   CLAUDE_STANDIN_FAIL      error      → result subtype error_during_execution, is_error, exit 1
//                            overloaded → is_error result "API Error: 529 … overloaded_error",
//                                         after a system api_retry message, exit 1
//                            rate_limit → is_error result "API Error: 429 … rate_limit_error", exit 1
//                            max_turns  → result subtype error_max_turns, is_error, exit 1
//                            crash      → no JSON at all: a message on stderr, exit 2
//   CLAUDE_STANDIN_DELAY_MS  before answering, run a child process for this long (as a Bash
//                            tool call would), so tests can cancel a run that is under way
//   CLAUDE_STANDIN_COST_USD  total_cost_usd of the result (default 0.0123)
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const VALUE_OPTIONS = new Set([
  '--output-format',
  '--permission-mode',
  '--append-system-prompt',
  '--max-turns',
  '--model',
  '--input-format',
  '--system-prompt',
]);
const LIST_OPTIONS = new Set(['--allowedTools', '--allowed-tools', '--disallowedTools', '--disallowed-tools']);
const FLAGS = new Set(['-p', '--print', '--verbose']);

function refuse(message) {
  process.stderr.write(`error: ${message}\n`);
  process.exit(1);
}

function parseArguments(argv) {
  const options = { flags: new Set(), values: {}, lists: {}, positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      options.positional.push(...argv.slice(i + 1));
      break;
    }
    if (FLAGS.has(arg)) options.flags.add(arg === '--print' ? '-p' : arg);
    else if (VALUE_OPTIONS.has(arg)) {
      if (i + 1 >= argv.length) refuse(`option '${arg} <value>' argument missing`);
      options.values[arg] = argv[++i];
    } else if (LIST_OPTIONS.has(arg)) {
      const items = [];
      while (i + 1 < argv.length && !argv[i + 1].startsWith('-')) items.push(...argv[++i].split(/[ ,]+/).filter(Boolean));
      options.lists[arg] = items;
    } else if (arg.startsWith('-')) refuse(`unknown option '${arg}'`);
    else options.positional.push(arg);
  }
  return options;
}

const options = parseArguments(process.argv.slice(2));
const env = process.env;

if (env.CLAUDE_STANDIN_LOG) {
  const names = Object.keys(env)
    .filter((name) => /^(ANTHROPIC_|CLAUDE_|SLACK_)/.test(name))
    .sort();
  const entry = { argv: process.argv.slice(2), cwd: process.cwd(), pid: process.pid, time: new Date().toISOString(), env: names };
  appendFileSync(env.CLAUDE_STANDIN_LOG, `${JSON.stringify(entry)}\n`);
}

if (!options.flags.has('-p')) refuse('this stand-in only runs headless (-p)');
const format = options.values['--output-format'] ?? 'text';
if (!['text', 'json', 'stream-json'].includes(format)) refuse(`option '--output-format <format>' argument '${format}' is invalid`);
if (format === 'stream-json' && !options.flags.has('--verbose')) refuse('When using --print, --output-format=stream-json requires --verbose');
const prompt = options.positional.join(' ');
if (prompt.trim() === '') refuse('Input must be provided either through stdin or as a prompt argument when using --print');

const sessionId = randomUUID();
const permissionMode = options.values['--permission-mode'] ?? 'default';
const started = Date.now();
let messageCount = 0;

function emit(message) {
  if (format === 'stream-json') process.stdout.write(`${JSON.stringify(message)}\n`);
}

function assistant(content, outputTokens) {
  messageCount++;
  const message = {
    id: `msg_${messageCount}`,
    type: 'message',
    role: 'assistant',
    model: 'claude-standin',
    content,
    stop_reason: null,
    usage: { input_tokens: 10, output_tokens: outputTokens },
  };
  emit({ type: 'assistant', message, parent_tool_use_id: null, session_id: sessionId, uuid: randomUUID() });
}

function toolResult(id, content, isError = false) {
  emit({
    type: 'user',
    message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content, is_error: isError }] },
    parent_tool_use_id: null,
    session_id: sessionId,
    uuid: randomUUID(),
  });
}

function runFor(ms) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', `setTimeout(() => {}, ${Number(ms)})`], { stdio: 'ignore' });
    child.on('exit', resolve);
    child.on('error', resolve);
  });
}

const usage = {
  input_tokens: 1200,
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 300,
  output_tokens: 345,
  server_tool_use: { web_search_requests: 0, web_fetch_requests: 0 },
  service_tier: 'standard',
};

function finish({ subtype = 'success', isError = false, text, errors, exitCode = 0, turns }) {
  const result = {
    type: 'result',
    subtype,
    is_error: isError,
    duration_ms: Date.now() - started,
    duration_api_ms: Date.now() - started,
    num_turns: turns,
    ...(text !== undefined ? { result: text } : {}),
    session_id: sessionId,
    total_cost_usd: Number(env.CLAUDE_STANDIN_COST_USD ?? 0.0123),
    usage,
    modelUsage: {
      'claude-standin': {
        inputTokens: 1200,
        outputTokens: 345,
        cacheReadInputTokens: 300,
        cacheCreationInputTokens: 0,
        costUSD: 0.0123,
        contextWindow: 200000,
      },
    },
    permission_denials: denials,
    uuid: randomUUID(),
    ...(errors ? { errors } : {}),
  };
  if (format === 'text') process.stdout.write(`${text ?? ''}\n`);
  else process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exitCode = exitCode;
}

const denials = [];
const fail = env.CLAUDE_STANDIN_FAIL ?? '';

if (fail === 'crash') {
  process.stderr.write('claude stand-in: crashed before answering\n');
  process.exit(2);
}

emit({
  type: 'system',
  subtype: 'init',
  cwd: process.cwd(),
  session_id: sessionId,
  tools: ['Bash', 'Edit', 'Glob', 'Grep', 'Read', 'Write'],
  model: 'claude-standin',
  permissionMode,
  uuid: randomUUID(),
});
assistant([{ type: 'text', text: 'Let me look at the repository.' }], 12);
assistant([{ type: 'tool_use', id: 'toolu_read', name: 'Read', input: { file_path: path.join(process.cwd(), 'README.md') } }], 20);
toolResult('toolu_read', '(file contents)');

if (env.CLAUDE_STANDIN_DELAY_MS) {
  assistant([{ type: 'tool_use', id: 'toolu_wait', name: 'Bash', input: { command: 'sleep', description: 'wait' } }], 8);
  await runFor(env.CLAUDE_STANDIN_DELAY_MS);
  toolResult('toolu_wait', '');
}

if (env.CLAUDE_STANDIN_EDIT) {
  const relative = env.CLAUDE_STANDIN_EDIT;
  const file = path.resolve(process.cwd(), relative);
  assistant([{ type: 'tool_use', id: 'toolu_edit', name: 'Write', input: { file_path: file, content: '…' } }], 30);
  const mayEdit = permissionMode === 'acceptEdits' || permissionMode === 'bypassPermissions';
  const inside = !path.relative(process.cwd(), file).startsWith('..');
  if (mayEdit && inside) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `edited by the claude stand-in at ${new Date().toISOString()}\n`);
    toolResult('toolu_edit', `File written: ${file}`);
  } else {
    denials.push({ tool_name: 'Write', tool_use_id: 'toolu_edit', tool_input: { file_path: file } });
    toolResult('toolu_edit', 'Claude requested permissions to write to this file, but you have not granted it yet.', true);
  }
}

const text = env.CLAUDE_STANDIN_RESULT ?? 'Done.';
const turns = messageCount;
if (fail === 'error') {
  finish({ subtype: 'error_during_execution', isError: true, errors: [text], exitCode: 1, turns });
} else if (fail === 'overloaded') {
  emit({
    type: 'system',
    subtype: 'api_retry',
    attempt: 1,
    max_retries: 10,
    retry_delay_ms: 500,
    error_status: 529,
    error: 'server_overload',
    session_id: sessionId,
    uuid: randomUUID(),
  });
  const apiError = 'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}';
  assistant([{ type: 'text', text: apiError }], 0);
  finish({ isError: true, text: apiError, exitCode: 1, turns });
} else if (fail === 'rate_limit') {
  const apiError = 'API Error: 429 {"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your rate limit"}}';
  assistant([{ type: 'text', text: apiError }], 0);
  finish({ isError: true, text: apiError, exitCode: 1, turns });
} else if (fail === 'max_turns') {
  finish({
    subtype: 'error_max_turns',
    isError: true,
    errors: [`Reached maximum number of turns (${options.values['--max-turns'] ?? turns})`],
    exitCode: 1,
    turns,
  });
} else {
  assistant([{ type: 'text', text }], 345);
  finish({ text, turns: messageCount });
}
