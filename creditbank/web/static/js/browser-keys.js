// Signing keys made in this browser: an Ed25519 key pair from WebCrypto whose private half is
// non-extractable (no script, not even this one, can read its bytes), kept in IndexedDB as the
// CryptoKey object itself (the browser stores it by structured clone, still non-extractable).
// One key per actor per browser profile. It signs only once the bank knows it: an
// `actor.key_added` entry, signed with a key the actor already has (its key file), enrolls the
// public half; the record then carries the index of that entry.
import { exportPublicKey, generateKeyPair, sha256 } from "./crypto/ed25519.js";
import { base64Encode, bytesToHex } from "./crypto/multibase.js";

const DB_NAME = "creditbank-keys";
const STORE = "keys";

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function store(mode) {
  const open = indexedDB.open(DB_NAME, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: "actor" });
  const db = await request(open);
  return db.transaction(STORE, mode).objectStore(STORE);
}

/** The key kept for `actor` ({actor, privateKey, publicKey (base64), keyId, enrolledIndex}), or null. */
export async function storedKey(actor) {
  return (await request((await store("readonly")).get(actor))) ?? null;
}

async function put(record) {
  await request((await store("readwrite")).put(record));
  return record;
}

/** A new non-extractable key for `actor`, kept (not yet enrolled); replaces one kept before. */
export async function makeKey(actor) {
  const pair = await generateKeyPair({ extractable: false });
  const raw = await exportPublicKey(pair.publicKey);
  // The key id the bank uses: the first 8 bytes of SHA-256 of the raw public key, in hex.
  const keyId = bytesToHex(await sha256(raw)).slice(0, 16);
  return put({ actor, privateKey: pair.privateKey, publicKey: base64Encode(raw), keyId, enrolledIndex: null });
}

/** Note that the kept key of `actor` was enrolled by log entry `index`. */
export async function markEnrolled(actor, publicKey, index) {
  const record = await storedKey(actor);
  if (!record || record.publicKey !== publicKey) return null;
  return put({ ...record, enrolledIndex: index });
}
