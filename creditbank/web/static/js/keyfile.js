// Reads the key file `creditbank keys new` writes (PKCS#8 PEM, Ed25519) into a WebCrypto signing
// key, in the browser: the private key never leaves this page. Plain PKCS#8 ("PRIVATE KEY") is
// imported as is; encrypted PKCS#8 ("ENCRYPTED PRIVATE KEY") is decrypted here when it uses what
// WebCrypto offers: PBES2 with PBKDF2 (HMAC-SHA-1/256/384/512) and AES-CBC (128/192/256), which is
// what the `cryptography` package writes. Other schemes are refused with a message.
import { base64Decode, base64urlDecode } from "./crypto/multibase.js";

const subtle = globalThis.crypto.subtle;

export class KeyFileError extends Error {}

function pemBody(text, label) {
  const match = text.match(new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`));
  return match ? base64Decode(match[1].replace(/\s+/g, "")) : null;
}

// A minimal DER reader: enough for EncryptedPrivateKeyInfo (RFC 5958) and PBES2 (RFC 8018).
function read(bytes, at = 0) {
  const tag = bytes[at];
  let length = bytes[at + 1];
  let start = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count > 3) throw new KeyFileError("DER length too long");
    length = 0;
    for (let i = 0; i < count; i++) length = (length << 8) | bytes[start + i];
    start += count;
  }
  if (start + length > bytes.length) throw new KeyFileError("truncated DER");
  return { tag, start, end: start + length, value: bytes.subarray(start, start + length) };
}

function children(bytes, node) {
  const out = [];
  for (let at = node.start; at < node.end; ) {
    const child = read(bytes, at);
    out.push(child);
    at = child.end;
  }
  return out;
}

function oid(node) {
  const b = node.value;
  const parts = [Math.floor(b[0] / 40), b[0] % 40];
  let value = 0;
  for (let i = 1; i < b.length; i++) {
    value = (value << 7) | (b[i] & 0x7f);
    if (!(b[i] & 0x80)) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join(".");
}

function integer(node) {
  return node.value.reduce((acc, byte) => acc * 256 + byte, 0);
}

const PBES2 = "1.2.840.113549.1.5.13";
const PBKDF2 = "1.2.840.113549.1.5.12";
const PRF = {
  "1.2.840.113549.2.7": "SHA-1",
  "1.2.840.113549.2.9": "SHA-256",
  "1.2.840.113549.2.10": "SHA-384",
  "1.2.840.113549.2.11": "SHA-512",
};
const AES = {
  "2.16.840.1.101.3.4.1.2": 128,
  "2.16.840.1.101.3.4.1.22": 192,
  "2.16.840.1.101.3.4.1.42": 256,
};

async function decrypt(der, passphrase) {
  const [algorithm, data] = children(der, read(der));
  const [algOid, params] = children(der, algorithm);
  if (oid(algOid) !== PBES2) throw new KeyFileError("only PBES2-encrypted key files can be opened in the browser");
  const [kdf, scheme] = children(der, params);
  const [kdfOid, kdfParams] = children(der, kdf);
  if (oid(kdfOid) !== PBKDF2) throw new KeyFileError("only PBKDF2 key derivation is supported by WebCrypto");
  const kdfFields = children(der, kdfParams);
  const salt = kdfFields[0].value;
  const iterations = integer(kdfFields[1]);
  const prfNode = kdfFields.find((node) => node.tag === 0x30);
  const hash = prfNode ? PRF[oid(children(der, prfNode)[0])] : "SHA-1";
  const [schemeOid, iv] = children(der, scheme);
  const bits = AES[oid(schemeOid)];
  if (!hash || !bits) throw new KeyFileError("this key file's cipher is not one WebCrypto offers (AES-CBC with PBKDF2)");
  const base = await subtle.importKey("raw", new TextEncoder().encode(passphrase), "PBKDF2", false, ["deriveKey"]);
  const aes = await subtle.deriveKey(
    { name: "PBKDF2", salt, iterations, hash },
    base,
    { name: "AES-CBC", length: bits },
    false,
    ["decrypt"],
  );
  try {
    return new Uint8Array(await subtle.decrypt({ name: "AES-CBC", iv: iv.value }, aes, data.value));
  } catch {
    throw new KeyFileError("wrong passphrase");
  }
}

// The key of a cohort import's learner-row nonces, as `creditbank import learners` derives it
// (accounts/cohorts.py learner_secret): HMAC-SHA-256(seed, label), kept as a non-extractable
// HMAC key, so a page's import and the CLI's give a row the same nonce.
async function learnerNonceKey(seed) {
  const hmac = { name: "HMAC", hash: "SHA-256" };
  const base = await subtle.importKey("raw", seed, hmac, false, ["sign"]);
  const label = new TextEncoder().encode("creditbank cohort learner nonces v1");
  const secret = await subtle.sign("HMAC", base, label);
  return subtle.importKey("raw", secret, hmac, false, ["sign"]);
}

/**
 * {privateKey (non-extractable CryptoKey), publicKey (32 raw bytes), nonceKey (non-extractable
 * HMAC key of learner-import nonces)} from a key file's text.
 */
export async function openKeyFile(text, passphrase = "") {
  let pkcs8 = pemBody(text, "PRIVATE KEY");
  if (!pkcs8) {
    const encrypted = pemBody(text, "ENCRYPTED PRIVATE KEY");
    if (!encrypted) throw new KeyFileError("not a PKCS#8 PEM key file");
    if (!passphrase) throw new KeyFileError("this key file is encrypted: give its passphrase");
    pkcs8 = await decrypt(encrypted, passphrase);
  }
  let jwk;
  try {
    const extractable = await subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
    jwk = await subtle.exportKey("jwk", extractable);
  } catch {
    throw new KeyFileError("not an Ed25519 private key");
  }
  const privateKey = await subtle.importKey("jwk", jwk, { name: "Ed25519" }, false, ["sign"]);
  const nonceKey = await learnerNonceKey(base64urlDecode(jwk.d));
  return { privateKey, publicKey: base64urlDecode(jwk.x), nonceKey };
}
