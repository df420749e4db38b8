// Knobs of the fault runs: `--name value` or `--name=value` on the command line, or
// `CHAOS_<NAME>` in the environment (the flag wins). Bad values stop the run with one line.

export class BadOption extends Error {
  override readonly name = 'BadOption';
}

export function readIntegerOptions<const K extends string>(
  argv: readonly string[],
  defaults: Record<K, number>,
  min: Partial<Record<K, number>> = {},
): Record<K, number> {
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--([a-z][a-z-]*)(?:=(.*))?$/.exec(arg);
    if (!m)
      throw new BadOption(
        `unexpected argument "${arg}"; options: ${Object.keys(defaults)
          .map((k) => `--${k} <n>`)
          .join(' ')}`,
      );
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new BadOption(`--${m[1]} needs a value`);
    given.set(m[1]!, value);
  }
  for (const name of given.keys()) {
    if (!(name in defaults))
      throw new BadOption(
        `unknown option --${name}; options: ${Object.keys(defaults)
          .map((k) => `--${k}`)
          .join(', ')}`,
      );
  }
  const result = {} as Record<K, number>;
  for (const name of Object.keys(defaults) as K[]) {
    const env = process.env[`CHAOS_${name.toUpperCase().replace(/-/g, '_')}`];
    const raw = given.get(name) ?? (env?.trim() ? env.trim() : undefined);
    if (raw === undefined) {
      result[name] = defaults[name];
      continue;
    }
    const lowest = min[name] ?? 0;
    if (!/^\d+$/.test(raw) || Number(raw) < lowest || !Number.isSafeInteger(Number(raw)))
      throw new BadOption(`--${name} must be an integer of at least ${lowest} (got "${raw}")`);
    result[name] = Number(raw);
  }
  return result;
}

/** A small seeded generator (mulberry32): the same seed gives the same fault schedule. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Seconds since `t0`, one decimal: "+12.3s". */
export const since = (t0: number, at = Date.now()): string => `+${((at - t0) / 1000).toFixed(1)}s`;
