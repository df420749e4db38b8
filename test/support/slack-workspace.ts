// TEST FIXTURE ONLY: the fictional Slack workspace both Slack stand-ins describe
// (slack-web-api-standin.ts answers as its bot; slack-signed-requests.ts sends its users'
// events), so ids agree across a test without each test repeating them.

export const standInWorkspace = {
  teamId: 'T0STANDIN',
  teamDomain: 'standin',
  enterpriseId: null,
  apiAppId: 'A0STANDIN',
  botUserId: 'U0STANDINBOT',
  botId: 'B0STANDINBOT',
  botName: 'orchestrator',
  botToken: 'xoxb-0000-standin-token',
  signingSecret: 'standin-signing-secret-8f3a2c',
  /** The legacy verification token Slack still puts in every payload. */
  verificationToken: 'standin-verification-token',
  user: { id: 'U0ALICE', name: 'alice' },
  channel: { id: 'C0GENERAL', name: 'general' },
  dmChannel: { id: 'D0ALICE' },
  /** User groups (`S…`) and their members, as `usergroups.users.list` answers. */
  userGroups: { S0RELEASE: ['U0RELEASE1', 'U0RELEASE2'] } as Readonly<Record<string, readonly string[]>>,
} as const;

let lastMicros = 0;

/**
 * A Slack message timestamp ("<seconds>.<6 digits>"), unique and increasing across the whole
 * test process. Slack identifies a message by its channel and ts, so ts values from the
 * events a test sends and from the messages the Web API stand-in posts must never collide.
 */
export function nextSlackTs(): string {
  lastMicros = Math.max(Date.now() * 1000, lastMicros + 1);
  return formatTs(lastMicros);
}

/** Makes later `nextSlackTs()` values come after `ts` (for messages seeded with a given ts). */
export function observeSlackTs(ts: string): void {
  const [seconds = '0', micros = '0'] = ts.split('.');
  lastMicros = Math.max(lastMicros, Number(seconds) * 1_000_000 + Number(micros.padEnd(6, '0').slice(0, 6)));
}

const formatTs = (micros: number): string => `${Math.floor(micros / 1_000_000)}.${String(micros % 1_000_000).padStart(6, '0')}`;

/** Compares two Slack timestamps numerically (string order breaks once seconds gain a digit). */
export const compareSlackTs = (a: string, b: string): number => {
  const [as = '0', am = '0'] = a.split('.');
  const [bs = '0', bm = '0'] = b.split('.');
  return Number(as) - Number(bs) || Number(am.padEnd(6, '0')) - Number(bm.padEnd(6, '0'));
};
