import { readFileSync } from 'node:fs';
import { credsAuthenticator, nkeyAuthenticator, nkeys, type ConnectionOptions } from 'nats';

// How a product process proves who it is to NATS: one of the four ways nats-server knows.
// The config (NATS_USER/NATS_PASSWORD, NATS_TOKEN, NATS_NKEY_SEED, NATS_CREDS_FILE) or the
// embedded server's generated credentials produce one of these; connectNats applies it.

export type NatsAuth =
  | { readonly kind: 'user'; readonly user: string; readonly password: string }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'nkey'; readonly seed: string }
  | { readonly kind: 'creds'; readonly file: string };

export class InvalidNatsCredentials extends Error {
  override readonly name = 'InvalidNatsCredentials';
}

/** Whether `seed` is a user nkey seed (`SU…`); never says why not, so the value never reaches a message. */
export const isUserSeed = (seed: string): boolean => {
  if (!seed.startsWith('SU')) return false;
  try {
    return nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey().startsWith('U');
  } catch {
    return false;
  }
};

const CREDS_BLOCK = /-{3,}[^\n]*-{3,}\r?\n\s*([^\s-][^\n]*?)\s*\r?\n\s*-{3,}[^\n]*-{3,}/g;

/** What is wrong with the text of a .creds file (a user JWT and a user seed), or undefined when it is usable. */
export const credsFileProblem = (text: string): string | undefined => {
  const blocks = [...text.matchAll(CREDS_BLOCK)].map((m) => m[1]!);
  if (blocks.length < 2) return 'holds no user JWT and seed (a .creds file from nsc or the NATS account server is expected)';
  if (blocks[0]!.split('.').length !== 3) return 'its first block is not a JWT';
  if (!isUserSeed(blocks[1]!)) return 'its second block is not a user nkey seed (SU…)';
  return undefined;
};

/** The connection options for `auth`; the creds file is read now, so a rotated file is used at the next connect. */
export const authConnectionOptions = (auth: NatsAuth | undefined): Partial<ConnectionOptions> => {
  if (auth === undefined) return {};
  switch (auth.kind) {
    case 'user':
      return { user: auth.user, pass: auth.password };
    case 'token':
      return { token: auth.token };
    case 'nkey':
      return { authenticator: nkeyAuthenticator(new TextEncoder().encode(auth.seed)) };
    case 'creds': {
      let text: Buffer;
      try {
        text = readFileSync(auth.file);
      } catch (error) {
        throw new InvalidNatsCredentials(`NATS_CREDS_FILE ${auth.file} could not be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      }
      const problem = credsFileProblem(text.toString('utf8'));
      if (problem) throw new InvalidNatsCredentials(`NATS_CREDS_FILE ${auth.file} ${problem}`);
      return { authenticator: credsAuthenticator(new Uint8Array(text)) };
    }
  }
};

/** The secret part of `auth`, for redaction of text the product did not write itself. */
export const authSecrets = (auth: NatsAuth | undefined): string[] => {
  if (auth === undefined) return [];
  switch (auth.kind) {
    case 'user':
      return [auth.password];
    case 'token':
      return [auth.token];
    case 'nkey':
      return [auth.seed];
    case 'creds':
      return [];
  }
};
