// SHA-256 and Ed25519 (RFC 8032) through WebCrypto, plus did:key resolution for Ed25519 keys.
// Nothing here implements curve arithmetic: the browser's own Ed25519 does the work, so a bug in
// this file can at worst refuse a good signature, never accept a bad one.

import { EncodingError, base58btcEncode, concatBytes, multibaseDecode } from "./multibase.js";

const subtle = globalThis.crypto?.subtle;

function requireSubtle() {
  if (!subtle) throw new Error("WebCrypto is unavailable (the page must be served over HTTPS or from localhost)");
  return subtle;
}

/** SHA-256 of bytes, as a Uint8Array. */
export async function sha256(bytes) {
  return new Uint8Array(await requireSubtle().digest("SHA-256", bytes));
}

/** Import a raw 32-byte Ed25519 public key for verification. */
export async function importPublicKey(raw) {
  if (!(raw instanceof Uint8Array) || raw.length !== 32) {
    throw new EncodingError("an Ed25519 public key is 32 bytes");
  }
  return requireSubtle().importKey("raw", raw, { name: "Ed25519" }, true, ["verify"]);
}

/** Export a public key (CryptoKey) as its raw 32 bytes. */
export async function exportPublicKey(key) {
  return new Uint8Array(await requireSubtle().exportKey("raw", key));
}

/** True when `signature` is a valid Ed25519 signature of `message` under `publicKey` (raw or CryptoKey). */
export async function verify(publicKey, signature, message) {
  const key = publicKey instanceof Uint8Array ? await importPublicKey(publicKey) : publicKey;
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
  return requireSubtle().verify({ name: "Ed25519" }, key, signature, message);
}

/** Sign `message` with a private CryptoKey (extractable or not); returns the 64-byte signature. */
export async function sign(privateKey, message) {
  return new Uint8Array(await requireSubtle().sign({ name: "Ed25519" }, privateKey, message));
}

/** A new key pair; the private key is non-extractable unless asked otherwise. */
export async function generateKeyPair({ extractable = false } = {}) {
  return requireSubtle().generateKey({ name: "Ed25519" }, extractable, ["sign", "verify"]);
}

// PKCS#8 wrapping of a 32-byte Ed25519 seed (RFC 8410): a fixed 16-byte prefix then the seed.
const PKCS8_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/** Import a 32-byte Ed25519 private seed (RFC 8032's secret key) as a signing CryptoKey. */
export async function importPrivateSeed(seed, { extractable = false } = {}) {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw new EncodingError("an Ed25519 private key seed is 32 bytes");
  }
  return requireSubtle().importKey("pkcs8", concatBytes(PKCS8_PREFIX, seed), { name: "Ed25519" }, extractable, ["sign"]);
}

// did:key for Ed25519: multibase base58btc of the multicodec varint 0xed01 then the 32-byte key.
const ED25519_PUB = [0xed, 0x01];
const ED25519_PRIV = [0x80, 0x26];

function unwrapMulticodec(multibase, codec, what) {
  if (typeof multibase !== "string" || !multibase.startsWith("z")) {
    throw new EncodingError(`${what} must be multibase base58btc (start with 'z')`);
  }
  const bytes = multibaseDecode(multibase);
  if (bytes.length !== 34 || bytes[0] !== codec[0] || bytes[1] !== codec[1]) {
    throw new EncodingError(`${what} is not a 32-byte Ed25519 key with its multicodec prefix`);
  }
  return bytes.slice(2);
}

/** Raw public key from `z6Mk...` (publicKeyMultibase / did:key identifier). */
export function publicKeyFromMultibase(multibase) {
  return unwrapMulticodec(multibase, ED25519_PUB, "publicKeyMultibase");
}

/** Raw 32-byte seed from a privateKeyMultibase (`z3u2...`, multicodec ed25519-priv 0x1300). */
export function privateSeedFromMultibase(multibase) {
  return unwrapMulticodec(multibase, ED25519_PRIV, "privateKeyMultibase");
}

export function publicKeyToMultibase(raw) {
  return "z" + base58btcEncode(concatBytes(new Uint8Array(ED25519_PUB), raw));
}

export class DidError extends Error {
  constructor(message) {
    super(message);
    this.name = "DidError";
  }
}

/**
 * Resolve a did:key verification method (`did:key:z6Mk...#z6Mk...`) or DID to its Ed25519 key,
 * offline, as the did:key method defines: the key is the identifier itself. A fragment, when
 * present, must name that same key.
 */
export function resolveDidKey(didUrl) {
  if (typeof didUrl !== "string") throw new DidError("the verification method is not a string");
  const match = /^did:key:(z[1-9A-HJ-NP-Za-km-z]+)(?:#(z[1-9A-HJ-NP-Za-km-z]+))?$/.exec(didUrl);
  if (!match) throw new DidError(`not a did:key URL: ${didUrl}`);
  const [, id, fragment] = match;
  if (fragment !== undefined && fragment !== id) {
    throw new DidError("the did:key fragment does not name the DID's own key");
  }
  let publicKey;
  try {
    publicKey = publicKeyFromMultibase(id);
  } catch (error) {
    throw new DidError(`did:key is not an Ed25519 key: ${error.message}`);
  }
  const did = `did:key:${id}`;
  const vm = `${did}#${id}`;
  return {
    did,
    publicKey,
    document: {
      "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
      id: did,
      verificationMethod: [{ id: vm, type: "Multikey", controller: did, publicKeyMultibase: id }],
      authentication: [vm],
      assertionMethod: [vm],
      capabilityDelegation: [vm],
      capabilityInvocation: [vm],
    },
  };
}
