// C2SP signed notes and tlog-checkpoints with Ed25519 verifier keys, as ledger/checkpoint.py
// reads and writes them. Verifier key: `name+hex8(key id)+base64(0x01 || public key)`; key id:
// SHA-256(name || "\n" || 0x01 || public key)[:4]; signature line: "— name base64(key id || sig)".
// As the specification requires, signatures by unknown keys are ignored, a failing signature by a
// known key rejects the note, and a note with no verified known signature is rejected.

import { base64Decode, bytesToHex, concatBytes, equalBytes, hexToBytes } from "./multibase.js";
import { importPublicKey, sha256, verify } from "./ed25519.js";

export class CheckpointError extends Error {
  constructor(message) {
    super(message);
    this.name = "CheckpointError";
  }
}

const ED25519 = 0x01;
const DASH = "\u2014 ";
const NAME = /^[^\s+]+$/;
const MAX_SIGNATURES = 16;
const utf8 = new TextEncoder();

async function keyId(name, publicRaw) {
  return (await sha256(concatBytes(utf8.encode(name), new Uint8Array([0x0a, ED25519]), publicRaw))).slice(0, 4);
}

/** Parse and check a verifier key string; returns {name, keyId, publicKey (raw), vkey}. */
export async function parseVerifierKey(vkey) {
  if (typeof vkey !== "string") throw new CheckpointError("the log key is not a string");
  const text = vkey.trim();
  const first = text.indexOf("+");
  const second = text.indexOf("+", first + 1);
  if (first < 0 || second < 0) throw new CheckpointError("a verifier key looks like name+hex8+base64");
  const name = text.slice(0, first);
  const hexId = text.slice(first + 1, second);
  if (!NAME.test(name)) throw new CheckpointError(`key name ${JSON.stringify(name)} must be non-empty with no spaces or '+'`);
  let id;
  let raw;
  try {
    id = hexToBytes(hexId);
    raw = base64Decode(text.slice(second + 1));
  } catch {
    throw new CheckpointError("the log key is not name+hex8+base64");
  }
  if (id.length !== 4 || raw.length !== 33 || raw[0] !== ED25519) {
    throw new CheckpointError("the log key must hold a 4-byte id and an Ed25519 (0x01) key");
  }
  const publicKey = raw.slice(1);
  if (!equalBytes(await keyId(name, publicKey), id)) {
    throw new CheckpointError(`log key ${name}: id ${hexId} does not match its public key`);
  }
  return { name, keyId: id, keyIdHex: bytesToHex(id), publicKey, vkey: text };
}

function checkText(text) {
  if (!text.endsWith("\n")) throw new CheckpointError("note text must end with a newline");
  for (const ch of text) {
    if (ch.charCodeAt(0) < 0x20 && ch !== "\n") throw new CheckpointError("note text must not contain control characters");
  }
}

/** Verify a signed note against trusted verifier keys (parsed); returns {text, verified: [names]}. */
export async function openNote(note, verifiers) {
  if (typeof note !== "string" || !note.endsWith("\n")) throw new CheckpointError("a signed note ends with a newline");
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new CheckpointError("a signed note needs a blank line before its signatures");
  const text = note.slice(0, split + 1);
  checkText(text);
  const lines = note.slice(split + 2).split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  if (!lines.length) throw new CheckpointError("a signed note has no signature lines");
  if (lines.length > MAX_SIGNATURES) throw new CheckpointError(`a signed note may carry at most ${MAX_SIGNATURES} signatures`);
  const message = utf8.encode(text);
  const verified = [];
  for (const line of lines) {
    if (!line.startsWith(DASH)) throw new CheckpointError(`malformed signature line ${JSON.stringify(line)}`);
    const rest = line.slice(DASH.length);
    const space = rest.indexOf(" ");
    const name = space < 0 ? rest : rest.slice(0, space);
    let raw;
    try {
      raw = base64Decode(space < 0 ? "" : rest.slice(space + 1));
    } catch {
      throw new CheckpointError(`signature of ${name} is not base64`);
    }
    if (raw.length < 5 || !name) throw new CheckpointError(`signature line of ${JSON.stringify(name)} is too short`);
    const verifier = verifiers.find((v) => v.name === name && equalBytes(v.keyId, raw.slice(0, 4)));
    if (!verifier) continue;
    if (!(await verify(await importPublicKey(verifier.publicKey), raw.slice(4), message))) {
      throw new CheckpointError(`note signature by ${name} does not verify`);
    }
    verified.push(name);
  }
  if (!verified.length) throw new CheckpointError("the note carries no signature from a trusted key");
  return { text, verified };
}

/** Parse a tlog-checkpoint body: {origin, size, rootHash (bytes), extensions}. */
export function parseCheckpointText(text) {
  const lines = text.split("\n");
  if (lines.length < 4 || lines[lines.length - 1] !== "") {
    throw new CheckpointError("a checkpoint has an origin, a size and a root hash, each a line");
  }
  const [origin, sizeText, rootText, ...extensions] = lines.slice(0, -1);
  if (!origin) throw new CheckpointError("checkpoint origin line is empty");
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) throw new CheckpointError(`checkpoint tree size ${JSON.stringify(sizeText)} is not a decimal number`);
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw new CheckpointError("checkpoint tree size is too large for this verifier");
  let rootHash;
  try {
    rootHash = base64Decode(rootText);
  } catch {
    throw new CheckpointError("checkpoint root hash is not base64");
  }
  if (rootHash.length !== 32) throw new CheckpointError("checkpoint root hash must be 32 bytes");
  if (extensions.some((line) => !line)) throw new CheckpointError("checkpoint extension lines must not be empty");
  return { origin, size, rootHash, extensions };
}

/** Verify a signed checkpoint with one log key string (and the origin, when given); return it parsed. */
export async function openCheckpoint(note, vkey, { origin } = {}) {
  const verifier = await parseVerifierKey(vkey);
  const { text } = await openNote(note, [verifier]);
  const checkpoint = parseCheckpointText(text);
  if (origin !== undefined && origin !== null && checkpoint.origin !== origin) {
    throw new CheckpointError(`checkpoint is for log ${JSON.stringify(checkpoint.origin)}, not ${JSON.stringify(origin)}`);
  }
  return checkpoint;
}
