// Byte encodings the verifier meets: hex, base64 (checkpoints, proofs, transcripts), base64url
// (status lists), base58btc (Ed25519 keys and signatures in did:key and Data Integrity proofs) and
// multibase (a one-character prefix naming which). Decoders are strict: a character outside the
// alphabet, bad padding or a non-canonical form is an error, never silently skipped, because these
// bytes are compared with signed ones.

export class EncodingError extends Error {
  constructor(message) {
    super(message);
    this.name = "EncodingError";
  }
}

export function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function hexToBytes(hex) {
  if (typeof hex !== "string" || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new EncodingError("not a hex string");
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i += 1) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function encode64(bytes, alphabet, pad) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = [18, 12, 6, 0].map((s) => alphabet[(n >> s) & 63]);
    const keep = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    out += chars.slice(0, keep).join("") + (pad ? "=".repeat(4 - keep) : "");
  }
  return out;
}

function decode64(text, alphabet, padded, what) {
  if (typeof text !== "string") throw new EncodingError(`${what} is not a string`);
  let body = text;
  if (padded) {
    if (text.length % 4 !== 0) throw new EncodingError(`${what} has a bad length`);
    body = text.replace(/={1,2}$/, "");
  }
  if (body.length % 4 === 1) throw new EncodingError(`${what} has a bad length`);
  const out = new Uint8Array(Math.floor((body.length * 6) / 8));
  let acc = 0;
  let bits = 0;
  let j = 0;
  for (const ch of body) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new EncodingError(`${what} holds a character outside its alphabet`);
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j] = (acc >> bits) & 0xff;
      j += 1;
    }
  }
  if (acc & ((1 << bits) - 1)) throw new EncodingError(`${what} has non-zero trailing bits`);
  return out;
}

export const base64Encode = (bytes) => encode64(bytes, B64, true);
export const base64Decode = (text) => decode64(text, B64, true, "base64");
export const base64urlEncode = (bytes) => encode64(bytes, B64URL, false);
export const base64urlDecode = (text) => decode64(text, B64URL, false, "base64url");

const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

export function base58btcEncode(bytes) {
  const digits = [];
  for (const byte of bytes) {
    let carry = byte;
    for (let i = 0; i < digits.length; i += 1) {
      carry += digits[i] << 8;
      digits[i] = carry % 58;
      carry = Math.floor(carry / 58);
    }
    while (carry) {
      digits.push(carry % 58);
      carry = Math.floor(carry / 58);
    }
  }
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros += 1;
  return "1".repeat(zeros) + digits.reverse().map((d) => B58[d]).join("");
}

export function base58btcDecode(text) {
  if (typeof text !== "string") throw new EncodingError("base58btc is not a string");
  const bytes = [];
  for (const ch of text) {
    let carry = B58.indexOf(ch);
    if (carry < 0) throw new EncodingError("base58btc holds a character outside its alphabet");
    for (let i = 0; i < bytes.length; i += 1) {
      carry += bytes[i] * 58;
      bytes[i] = carry & 0xff;
      carry >>= 8;
    }
    while (carry) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  let zeros = 0;
  while (zeros < text.length && text[zeros] === "1") zeros += 1;
  return new Uint8Array([...new Array(zeros).fill(0), ...bytes.reverse()]);
}

/** Multibase: 'z' base58btc, 'u' base64url (no padding), 'm' base64 (no padding), 'f' hex. */
export function multibaseDecode(text) {
  if (typeof text !== "string" || text.length < 1) throw new EncodingError("multibase value is empty");
  const prefix = text[0];
  const body = text.slice(1);
  switch (prefix) {
    case "z":
      return base58btcDecode(body);
    case "u":
      return base64urlDecode(body);
    case "m":
      return decode64(body, B64, false, "base64");
    case "f":
      return hexToBytes(body);
    default:
      throw new EncodingError(`unsupported multibase prefix ${JSON.stringify(prefix)}`);
  }
}

export function multibaseEncode(bytes, prefix = "z") {
  switch (prefix) {
    case "z":
      return "z" + base58btcEncode(bytes);
    case "u":
      return "u" + base64urlEncode(bytes);
    default:
      throw new EncodingError(`unsupported multibase prefix ${JSON.stringify(prefix)}`);
  }
}

export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i += 1) diff |= a[i] ^ b[i];
  return diff === 0;
}
