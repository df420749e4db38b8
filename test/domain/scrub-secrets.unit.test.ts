import { describe, expect, it } from 'vitest';
import { lineScrubber, REDACTED_SECRET, scrubSecrets, scrubSecretsIn, secretScrubber } from '../../domain/secrets/scrub-secrets.ts';

// Each shape: found in plain text, in JSON text, inside a longer word, and a near miss that must
// stay; then ids and times of the product that must never be taken for secrets.

const PRIVATE_KEY = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEowIBAAKCAQEA1x0Yq1Zb3nKq9QfJr8hY7Wq2x3m',
  'Zb3nKq9QfJr8hY7Wq2x3mAAKCAQEA1x0Yq1==',
  '-----END RSA PRIVATE KEY-----',
].join('\n');

interface Shape {
  readonly name: string;
  readonly secret: string;
  /** Looks alike, is not a secret: left untouched. */
  readonly nearMiss: string;
  /** What stays beside the marker, when the shape keeps a prefix. */
  readonly kept?: string;
}

const SHAPES: readonly Shape[] = [
  { name: 'salesforce-token', secret: '00D5g000004XYZAB!AQ0AQHk3bNUfZr2lPqkq7gMv1xOqXyJ2cL8Sx9w7dYp2.Kv6Tz3Hs', nearMiss: '00D5g000004XYZABEAA' },
  { name: 'slack-token', secret: 'xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx', nearMiss: 'xoxz-1234567890-1234567890123' },
  { name: 'slack-token', secret: 'xoxp-2222222222-3333333333-abcdef012345', nearMiss: 'xoxp-12' },
  { name: 'slack-app-token', secret: 'xapp-1-A0123ABCD-1234567890123-abcdef0123456789', nearMiss: 'xapp-1' },
  { name: 'anthropic-key', secret: 'sk-ant-api03-AbCdEf0123456789_-AbCdEf0123456789', nearMiss: 'sk-ant-' },
  { name: 'github-token', secret: `ghp_${'a1B2c3D4e5'.repeat(3)}F6g7H8`, nearMiss: 'ghp_short123' },
  { name: 'github-token', secret: `gho_${'Z9y8X7w6V5'.repeat(4)}`, nearMiss: 'ghx_' + 'a'.repeat(36) },
  { name: 'github-token', secret: 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz', nearMiss: 'github_pat_short' },
  { name: 'aws-access-key-id', secret: 'AKIAIOSFODNN7EXAMPLE', nearMiss: 'AKIAIOSFODNN7EXAMPL' },
  { name: 'aws-access-key-id', secret: 'ASIAY34FZKBOKMUTVV7A', nearMiss: 'ASIAY34FZKBOKMUTVV7AB' },
  {
    name: 'aws-secret-access-key',
    secret: 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    kept: 'aws_secret_access_key = ',
    nearMiss: 'aws_secret_access_key is missing',
  },
  {
    name: 'jwt',
    secret: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    nearMiss: 'eyJhbGciOiJIUzI1NiJ9.notAToken',
  },
  { name: 'authorization', secret: 'Authorization: Bearer abc.def-123', kept: 'Authorization: Bearer ', nearMiss: 'authorization failed for this user' },
  { name: 'authorization', secret: 'authorization=Basic dXNlcjpwYXNz', kept: 'authorization=Basic ', nearMiss: 'no authorization header' },
  { name: 'bearer-token', secret: 'Bearer 4f1c9a7e2b8d0c6e5a3b', kept: 'Bearer ', nearMiss: 'Bearer tokens expire' },
  { name: 'session-id', secret: 'sid=00DAbcdefghijklmn', kept: 'sid=', nearMiss: 'sid=12' },
  { name: 'url-credentials', secret: 'https://deploy:s3cr3t@git.example.com/repo.git', kept: 'https://', nearMiss: 'https://git.example.com/a@b' },
  { name: 'url-credentials', secret: 'nats://t0ken-value@nats.internal:4222', kept: 'nats://', nearMiss: 'user@example.com' },
  { name: 'private-key', secret: PRIVATE_KEY, nearMiss: '-----BEGIN PUBLIC KEY-----' },
];

/** What the secret becomes: its kept prefix, the marker, and for URLs the host after it. */
const hidden = (shape: Shape): string => {
  const after = shape.name === 'url-credentials' ? shape.secret.slice(shape.secret.lastIndexOf('@')) : '';
  return `${shape.kept ?? ''}[redacted:${shape.name}]${after}`;
};

/** The part of the secret that must not survive (the prefix a shape keeps is not secret). */
const secretPart = (shape: Shape): string => {
  const rest = shape.kept ? shape.secret.slice(shape.kept.length) : shape.secret;
  return shape.name === 'url-credentials' ? rest.slice(0, rest.lastIndexOf('@')) : rest;
};

describe('scrubSecrets: well-known shapes', () => {
  it.each(SHAPES.map((s) => [`${s.name} ${s.secret.slice(0, 14)}`, s] as const))('%s: hidden in plain text, its near miss kept', (_, shape) => {
    expect(scrubSecrets(`error: ${shape.secret} (exit 1)`)).toBe(`error: ${hidden(shape)} (exit 1)`);
    expect(scrubSecrets(`near: ${shape.nearMiss}.`)).toBe(`near: ${shape.nearMiss}.`);
  });

  it.each(SHAPES.map((s) => [`${s.name} ${s.secret.slice(0, 14)}`, s] as const))('%s: hidden inside JSON text and JSON values', (_, shape) => {
    const json = JSON.stringify({ status: 1, message: `failed with ${shape.secret}`, list: [shape.secret] });
    const scrubbed = scrubSecrets(json);
    expect(scrubbed).not.toContain(secretPart(shape).replace(/\n/g, '\\n'));
    expect(() => JSON.parse(scrubbed)).not.toThrow();
    expect(scrubSecretsIn({ status: 1, message: `failed with ${shape.secret}`, list: [shape.secret] })).toEqual({
      status: 1,
      message: `failed with ${hidden(shape)}`,
      list: [hidden(shape)],
    });
  });

  it('prefixed tokens are found inside longer words', () => {
    expect(scrubSecrets('token=xoxb-1234567890-abcdefghij;')).toBe('token=[redacted:slack-token];');
    expect(scrubSecrets('KEY_sk-ant-api03-AbCdEf0123456789')).toBe('KEY_[redacted:anthropic-key]');
    expect(scrubSecrets('sid:00D5g000004XYZAB!AQ0AQHk3bNUfZr2lPqkq7gMv1x,next')).toBe('sid:[redacted:salesforce-token],next');
    expect(scrubSecrets('key=AKIAIOSFODNN7EXAMPLE.')).toBe('key=[redacted:aws-access-key-id].');
  });

  it('a Salesforce token behind an Authorization header or in a sid cookie is hidden', () => {
    expect(scrubSecrets('Authorization: Bearer 00D5g000004XYZAB!AQ0AQHk3bNUfZr2lPqkq7gMv1xOq')).toBe('Authorization: Bearer [redacted:salesforce-token]');
    expect(scrubSecrets('Cookie: sid=00D5g000004XYZAB!AQ0AQHk3bNUfZr2lPqkq7gMv1xOq; path=/')).toBe('Cookie: sid=[redacted:salesforce-token]; path=/');
  });

  it('a private key block cut before its END line is hidden to the end of its base64', () => {
    const cut = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ==';
    expect(scrubSecrets(`${cut}`)).toBe('[redacted:private-key]');
    // In JSON text the block ends at the string's closing quote, which stays.
    expect(JSON.parse(scrubSecrets(JSON.stringify({ out: cut, next: 1 })))).toEqual({ out: '[redacted:private-key]', next: 1 });
  });

  it('a password holding a raw @ is hidden whole; the host stays', () => {
    expect(scrubSecrets('cloning https://bot:p@ss@git.example.com/x.git')).toBe('cloning https://[redacted:url-credentials]@git.example.com/x.git');
  });

  it('scrubbing twice changes nothing more', () => {
    const text = SHAPES.map((s) => s.secret).join(' | ');
    const once = scrubSecrets(text, ['my-known-secret']);
    expect(scrubSecrets(once, ['my-known-secret'])).toBe(once);
  });
});

describe('scrubSecrets: no false positives', () => {
  const ordinary = [
    '9fceb02d0ae598e95dc970b74767f19372d61af8', // git SHA
    '01ARZ3NDEKTSV4RRFFQ69G5FAV', // ULID
    '01HXAKIAIOSFODNN7EXAMPLE00', // ULID that happens to hold an AWS-like run
    '0f8fad5b-d9cb-469f-a165-70867728950e', // UUID
    '2026-12-07T19:50:20.123Z', // ISO timestamp
    '1712345678.123456', // Slack ts
    'slack-C0123ABCD_1712345678_123456', // task id from a Slack message
    'task-01HX5ZC3M4Q8V7K2J9N6B1T0RS',
    'orch.events.task.TaskFailed',
    'https://hooks.example.com/orch?x=1',
    'Bearer tokens are checked by the gateway',
    '00D5g000004XYZAB', // an org id alone is not a secret
  ];
  it.each(ordinary)('%s is left as it is', (text) => {
    expect(scrubSecrets(`id ${text} done`)).toBe(`id ${text} done`);
  });
});

describe('scrubSecrets: known values', () => {
  it('replaces every known value, longer first, also in its JSON-escaped form', () => {
    const known = ['abc', 'abc-longer-secret', 'p4ss"word\\1'];
    expect(scrubSecrets('token abc-longer-secret and abc', known)).toBe('token [redacted] and abc'); // 'abc' is too short to be a secret
    expect(scrubSecrets('raw p4ss"word\\1 json p4ss\\"word\\\\1', known)).toBe('raw [redacted] json [redacted]');
    expect(scrubSecrets('p4ss.w*rd(1) and p4ssXw', ['p4ss.w*rd(1)'])).toBe(`${REDACTED_SECRET} and p4ssXw`);
  });

  it('ignores empty and blank values', () => {
    expect(scrubSecrets('nothing to hide', ['', '   ', 'absent'])).toBe('nothing to hide');
  });

  it('a compiled scrubber gives the same answers', () => {
    const scrub = secretScrubber(['hunter22-secret']);
    expect(scrub('pw hunter22-secret and xoxb-1234567890-abcdefghij')).toBe('pw [redacted] and [redacted:slack-token]');
  });
});

describe('scrubSecretsIn', () => {
  it('scrubs strings at any depth and leaves keys, numbers, booleans and null alone', () => {
    const value = { 'xoxb-1234567890-keyname': 1, nested: { list: ['a', { deep: 'Bearer 4f1c9a7e2b8d0c6e5a3b' }], n: 2, ok: true, none: null } };
    expect(scrubSecretsIn(value)).toEqual({
      'xoxb-1234567890-keyname': 1,
      nested: { list: ['a', { deep: 'Bearer [redacted:bearer-token]' }], n: 2, ok: true, none: null },
    });
  });

  it('returns the same reference when nothing was hidden, and survives cycles', () => {
    const clean = { a: ['b', { c: 'd' }] };
    expect(scrubSecretsIn(clean)).toBe(clean);
    const cyclic: Record<string, unknown> = { secret: 'sk-ant-api03-AbCdEf0123456789' };
    cyclic.self = cyclic;
    expect((scrubSecretsIn(cyclic) as Record<string, unknown>).secret).toBe('[redacted:anthropic-key]');
  });
});

describe('lineScrubber', () => {
  it('hides every line of a private key block that arrives line by line, and nothing after its END', () => {
    const scrub = lineScrubber(secretScrubber());
    const lines = [
      'before',
      '-----BEGIN EC PRIVATE KEY-----',
      'MHcCAQEEIBodyLineOne',
      'AwEHoUQDQgAEBodyLineTwo',
      '-----END EC PRIVATE KEY----- after',
      'next xoxb-1234567890-abcdefghij',
    ];
    expect(lines.map(scrub)).toEqual([
      'before',
      '[redacted:private-key]',
      '[redacted:private-key]',
      '[redacted:private-key]',
      '[redacted:private-key] after',
      'next [redacted:slack-token]',
    ]);
  });

  it('a block on one line opens nothing', () => {
    const scrub = lineScrubber(secretScrubber());
    expect(scrub('-----BEGIN PRIVATE KEY-----abc-----END PRIVATE KEY-----')).toBe('[redacted:private-key]');
    expect(scrub('plain')).toBe('plain');
  });
});
