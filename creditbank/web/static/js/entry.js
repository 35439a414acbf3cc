// One ledger entry signed in the browser, shared by the one-entry forms (sign.js) and the bulk
// imports (bulk.js): the entry is signed with WebCrypto Ed25519 over
// "creditbank-entry/v1\n" || RFC 8785(entry) (the project's jcs.js), exactly the bytes the server's
// SignedEntry verifies.
import { canonicalBytes } from "./crypto/jcs.js";
import { sha256, sign } from "./crypto/ed25519.js";
import { base64Encode, bytesToHex, concatBytes, hexToBytes } from "./crypto/multibase.js";

const DOMAIN = new TextEncoder().encode("creditbank-entry/v1\n");

export function randomHex(bytes) {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(bytes)));
}

function nowStamp() {
  // RFC 3339 UTC with microseconds, the one spelling the ledger accepts.
  return new Date().toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

// The signed entry (what POST /web/entries and each item of /web/batch carry), claimed now.
export async function signEntry(privateKey, publicKey, { type, actor, nonce, body }) {
  const entry = { type, actor, claimed_at: nowStamp(), nonce, body };
  const signature = await sign(privateKey, concatBytes(DOMAIN, canonicalBytes(entry)));
  return {
    entry,
    signature: { alg: "Ed25519", public_key: base64Encode(publicKey), sig: base64Encode(signature) },
  };
}

// A learner registration: a random id and salt made here, and the salted commitment to the person
// (SHA-256(salt || RFC 8785({"id_number", "name"}))); the name and ID number go beside the entry
// to the erasable identity table, never into the signed entry.
export async function learnerRegistration(name, idNumber) {
  const salt = randomHex(32);
  const person = canonicalBytes({ id_number: idNumber, name });
  const commitment = bytesToHex(await sha256(concatBytes(hexToBytes(salt), person)));
  return {
    body: { v: 1, learner_id: `L-${randomHex(8)}`, commitment },
    identity: { name, id_number: idNumber, salt },
  };
}
