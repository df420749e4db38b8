// Well-known shapes of credentials, each hidden behind a named marker (`[redacted:slack-token]`)
// so a reader still sees what kind of thing was there. Written here rather than taken from a
// secret-scanning package: the maintained ones (secretlint) lint files through an async rule
// engine and have no rule for Salesforce session ids, JWTs or Bearer values; this list must run
// synchronously on every log line. Prefix-anchored shapes match inside longer words (`tok=xoxb-…`);
// shapes without a distinctive prefix are bounded so ids, SHAs and timestamps never match.

export interface SecretShape {
  /** The marker's name: `[redacted:<name>]`. */
  readonly name: string;
  /** Global; a `keep` group (named) is left in place before the marker. */
  readonly pattern: RegExp;
}

export const marker = (name: string): string => `[redacted:${name}]`;

/** A value already hidden is not hidden again (so scrubbing twice changes nothing). */
const NOT_A_MARKER = String.raw`(?!\[redacted)`;

const AUTH_SCHEMES = '(?:bearer|basic|token|digest|negotiate|oauth|sso-key)';

// Value classes leave out `\`, so a match in JSON text never splits an escape (`\"`) off its quote.

/** Order matters: whole blocks and URLs first, then prefixed tokens, then the generic header forms. */
export const SECRET_SHAPES: readonly SecretShape[] = [
  {
    name: 'private-key',
    // An unterminated block (cut output) is hidden up to where its base64 ends; `\n` escapes count
    // as line breaks so the block is found inside JSON text too, without eating a closing quote.
    pattern: /-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----(?:[\s\S]*?-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|(?:[A-Za-z0-9+/=\s:-]|\\[nr])*)/g,
  },
  {
    name: 'url-credentials',
    // scheme://user:pass@host → scheme://[redacted:url-credentials]@host; a password holding a raw
    // `@` is hidden whole (segments up to the last `@` before the host).
    pattern: /(?<keep>\b[a-z][a-z0-9+.-]{0,31}:\/\/)(?!\[redacted)(?:[^\s/?#@"'<>\\]+@)*[^\s/?#@"'<>\\]+(?=@)/gi,
  },
  // Salesforce access tokens and session ids: the 15- or 18-character org id, `!`, the token.
  { name: 'salesforce-token', pattern: /00D[A-Za-z0-9]{12,15}![A-Za-z0-9._-]{20,}/g },
  { name: 'slack-token', pattern: /xox[abposr]-[A-Za-z0-9-]{8,}/g },
  { name: 'slack-app-token', pattern: /xapp-[A-Za-z0-9-]{8,}/g },
  { name: 'anthropic-key', pattern: /sk-ant-[A-Za-z0-9_-]{8,}/g },
  { name: 'github-token', pattern: /gh[pousr]_[A-Za-z0-9]{36,}/g },
  { name: 'github-token', pattern: /github_pat_[A-Za-z0-9_]{22,}/g },
  // Upper-case neighbours would make it part of a longer id (a ULID), not a key id.
  { name: 'aws-access-key-id', pattern: /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/g },
  {
    name: 'aws-secret-access-key',
    pattern: new RegExp(String.raw`(?<keep>aws_secret_access_key["']?\s*[:=]\s*["']?)${NOT_A_MARKER}[A-Za-z0-9/+=]{16,}`, 'gi'),
  },
  // Three base64url segments, the first two JSON objects (`{"` is `eyJ`).
  { name: 'jwt', pattern: /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g },
  {
    name: 'authorization',
    // The scheme is optional, so a value that is a scheme before a hidden token must not be taken for the token.
    // `Authorization: Bearer x`, `"authorization":"Basic x"`, `authorization=x`: the scheme stays.
    pattern: new RegExp(
      String.raw`(?<keep>\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:${AUTH_SCHEMES}\s+)?)(?!\[redacted|${AUTH_SCHEMES}\s+\[redacted)[^\s"',;}\\]+`,
      'gi',
    ),
  },
  { name: 'bearer-token', pattern: new RegExp(String.raw`(?<keep>\bbearer\s+)${NOT_A_MARKER}[A-Za-z0-9\-._~+/]{12,}=*`, 'gi') },
  // Salesforce (and other) session cookies: `sid=…`.
  { name: 'session-id', pattern: new RegExp(String.raw`(?<keep>\bsid=)${NOT_A_MARKER}[^\s;&"',\\]{8,}`, 'g') },
];
