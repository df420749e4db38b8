import { describe, expect, it } from 'vitest';
import { createLogger } from '../../infra/logging.ts';

// The logger as the second line of defence (SE4): whatever a line holds, in its message or in
// any field at any depth, leaves with known secret values and credential shapes hidden.

const KNOWN = 'whsec-configured-9f8e7d6c';
const SLACK = 'xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOp';
const SF = '00D5g000004XYZAB!AQ0AQHk3bNUfZr2lPqkq7gMv1xOqXyJ2cL8S';

const capture = () => {
  const raw: string[] = [];
  const logger = createLogger({ level: 'info', secretValues: [KNOWN, 'quote"d\\secret'], destination: { write: (line: string) => void raw.push(line) } });
  return { logger, raw, lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>) };
};

describe('createLogger scrubs every line', () => {
  it('hides known values and token shapes in the message and in nested fields, and the line stays JSON', () => {
    const { logger, raw, lines } = capture();
    logger.warn(
      { failure: { code: 'SalesforceAuthFailed', message: `session ${SF} expired` }, output: [`tok ${SLACK}`, `secret ${KNOWN}`] },
      `task failed: ${KNOWN}`,
    );
    const text = raw.join('');
    for (const secret of [KNOWN, SLACK, SF]) expect(text).not.toContain(secret);
    expect(lines()[0]).toMatchObject({
      msg: 'task failed: [redacted]',
      failure: { code: 'SalesforceAuthFailed', message: 'session [redacted:salesforce-token] expired' },
      output: ['tok [redacted:slack-token]', 'secret [redacted]'],
    });
  });

  it('hides a known value that JSON escapes, and an error stack that carries a token', () => {
    const { logger, raw, lines } = capture();
    logger.error({ err: new Error(`auth with Authorization: Bearer ${SF} refused`), note: 'quote"d\\secret' }, 'boom');
    expect(raw.join('')).not.toContain(SF);
    expect(raw.join('')).not.toContain('quote\\"d\\\\secret');
    const line = lines()[0] as { err: { message: string; stack: string }; note: string };
    expect(line.note).toBe('[redacted]');
    expect(line.err.message).toBe('auth with Authorization: Bearer [redacted:salesforce-token] refused');
    expect(line.err.stack).toContain('[redacted:salesforce-token]');
  });

  it('leaves ordinary lines as they are', () => {
    const { logger, lines } = capture();
    logger.info(
      { taskId: 'task-01HX5ZC3M4Q8V7K2J9N6B1T0RS', sha: '9fceb02d0ae598e95dc970b74767f19372d61af8', url: 'https://hooks.example.com/x' },
      'task started',
    );
    expect(lines()[0]).toMatchObject({
      taskId: 'task-01HX5ZC3M4Q8V7K2J9N6B1T0RS',
      sha: '9fceb02d0ae598e95dc970b74767f19372d61af8',
      url: 'https://hooks.example.com/x',
      msg: 'task started',
    });
  });
});
