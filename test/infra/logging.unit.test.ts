import { describe, expect, it } from 'vitest';
import { createLogger, redactSecretsInText, withCorrelation } from '../../infra/logging.ts';

/** A logger whose JSON lines are kept, raw and parsed, for assertions. */
const capture = (level: 'info' | 'debug' = 'info') => {
  const raw: string[] = [];
  const logger = createLogger({ level, name: 'test-role', destination: { write: (line: string) => void raw.push(line) } });
  const lines = () => raw.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, raw, lines };
};

const SECRET = 'S3CRET-value-that-must-not-leak';

describe('createLogger', () => {
  it('writes one JSON line per entry with level name, time, name and message', () => {
    const { logger, raw, lines } = capture();
    logger.info({ taskId: 't-1' }, 'task queued');
    logger.debug('not at info level');
    expect(raw).toHaveLength(1);
    expect(raw[0]?.endsWith('\n')).toBe(true);
    expect(lines()[0]).toMatchObject({ level: 'info', name: 'test-role', taskId: 't-1', msg: 'task queued' });
    expect(new Date(String(lines()[0]?.['time'])).toISOString()).toBe(lines()[0]?.['time']);
  });

  it.each(['token', 'botToken', 'appToken', 'apiKey', 'password', 'accessToken', 'signingSecret', 'secret', 'authorization', 'x-api-key', 'ANTHROPIC_API_KEY'])(
    'redacts %s at the top level',
    (key) => {
      const { logger, raw, lines } = capture();
      logger.info({ [key]: SECRET, visible: 'kept' }, 'hello');
      expect(lines()[0]).toMatchObject({ [key]: '[redacted]', visible: 'kept' });
      expect(raw.join('')).not.toContain(SECRET);
    },
  );

  it('redacts secrets nested in objects, headers and arrays', () => {
    const { logger, raw, lines } = capture();
    logger.info(
      {
        config: { slack: { botToken: SECRET, signingSecret: SECRET, apiUrl: 'https://slack.com/api/' }, anthropic: { apiKey: SECRET } },
        req: { method: 'POST', headers: { authorization: `Bearer ${SECRET}`, 'x-api-key': SECRET, cookie: SECRET, 'content-type': 'application/json' } },
        nats: { user: 'orch', pass: SECRET },
        results: [{ accessToken: SECRET, id: 1 }],
        event: { data: { payload: { token: SECRET, stage: 'build' } } },
      },
      'nested',
    );
    const line = lines()[0];
    expect(line).toMatchObject({
      config: { slack: { botToken: '[redacted]', signingSecret: '[redacted]', apiUrl: 'https://slack.com/api/' }, anthropic: { apiKey: '[redacted]' } },
      req: { method: 'POST', headers: { authorization: '[redacted]', 'x-api-key': '[redacted]', cookie: '[redacted]', 'content-type': 'application/json' } },
      nats: { user: 'orch', pass: '[redacted]' },
      results: [{ accessToken: '[redacted]', id: 1 }],
      event: { data: { payload: { token: '[redacted]', stage: 'build' } } },
    });
    expect(raw.join('')).not.toContain(SECRET);
  });

  it('does not change the object that was logged', () => {
    const { logger } = capture();
    const headers = { authorization: SECRET };
    logger.info({ headers }, 'request');
    expect(headers.authorization).toBe(SECRET);
  });
});

describe('withCorrelation', () => {
  it('puts the correlation id and bindings on every line of the child, not the parent', () => {
    const { logger, lines } = capture('debug');
    const child = withCorrelation(logger, 'corr-42', { workflowId: 'wf-7' });
    child.info('first');
    child.debug({ step: 2 }, 'second');
    withCorrelation(child, 'corr-42').warn('grandchild');
    logger.info('parent');
    const [first, second, grandchild, parent] = lines();
    expect(first).toMatchObject({ correlationId: 'corr-42', workflowId: 'wf-7', msg: 'first', level: 'info' });
    expect(second).toMatchObject({ correlationId: 'corr-42', workflowId: 'wf-7', step: 2, level: 'debug' });
    expect(grandchild).toMatchObject({ correlationId: 'corr-42', level: 'warn' });
    expect(parent).not.toHaveProperty('correlationId');
  });

  it('redacts secrets passed as bindings', () => {
    const { logger, raw, lines } = capture();
    withCorrelation(logger, 'corr-1', { token: SECRET, client: { apiKey: SECRET } }).info('bound');
    expect(lines()[0]).toMatchObject({ correlationId: 'corr-1', token: '[redacted]', client: { apiKey: '[redacted]' } });
    expect(raw.join('')).not.toContain(SECRET);
  });
});

describe('redactSecretsInText', () => {
  it('replaces every occurrence of every secret', () => {
    const text = 'auth xoxb-1 failed; retrying with xoxb-1 and key sk-2\nexit 1';
    expect(redactSecretsInText(text, ['xoxb-1', 'sk-2'])).toBe('auth [redacted] failed; retrying with [redacted] and key [redacted]\nexit 1');
  });

  it('hides a secret that contains another one whole', () => {
    expect(redactSecretsInText('token abc-longer', ['abc', 'abc-longer'])).toBe('token [redacted]');
  });

  it('treats secrets literally, not as patterns', () => {
    expect(redactSecretsInText('p4ss.w*rd(1) and p4ssXw', ['p4ss.w*rd(1)'])).toBe('[redacted] and p4ssXw');
  });

  it('ignores empty secrets and leaves other text unchanged', () => {
    expect(redactSecretsInText('nothing to hide', ['', '  ', 'absent'])).toBe('nothing to hide');
  });
});
