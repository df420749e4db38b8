// NATS KV keys allow only `[-/_=.A-Za-z0-9]`; ids that come from outside may hold anything.

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const PLAIN = /^[-/_.A-Za-z0-9]*$/;

/** Any byte outside the allowed set (and `=` itself) is written as `=XX`, so distinct keys stay distinct. */
export const encodeKey = (key: string): string =>
  PLAIN.test(key)
    ? key
    : Array.from(encoder.encode(key))
        .map((byte) => {
          const c = String.fromCharCode(byte);
          return byte < 0x80 && PLAIN.test(c) ? c : `=${byte.toString(16).padStart(2, '0').toUpperCase()}`;
        })
        .join('');

export const decodeKey = (key: string): string => {
  const bytes: number[] = [];
  for (let i = 0; i < key.length; i++) {
    if (key[i] === '=') {
      bytes.push(parseInt(key.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(key.charCodeAt(i));
  }
  return decoder.decode(new Uint8Array(bytes));
};
