// JSON that keeps bigints: each is written as `{"$bigint":"<digits>"}` and read back as a
// bigint, where plain JSON.stringify would throw.

const TAG = '$bigint';

// A replacer or reviver makes JSON several times slower, so values without bigints go without.

export function stringifyWithBigints(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof TypeError && /bigint/i.test(error.message))) throw error;
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? { [TAG]: v.toString() } : v));
  }
}

export const parseWithBigints = (text: string): unknown =>
  !text.includes(`"${TAG}"`)
    ? JSON.parse(text)
    : JSON.parse(text, (_key, v: unknown) => {
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
          const keys = Object.keys(v);
          const digits = (v as Record<string, unknown>)[TAG];
          if (keys.length === 1 && typeof digits === 'string' && /^-?\d+$/.test(digits)) return BigInt(digits);
        }
        return v;
      });
