// Checks a creditbank transcript (`creditbank-transcript/v1` or `/v2`) down to the log, as
// accounts/transcript_verify.py does: the checkpoint's signature against the log key, then for each
// entry its leaf hash (SHA-256(0x00 || JCS(leaf))), its RFC 9162 inclusion proof against the
// checkpoint, and the actor's Ed25519 signature over "creditbank-entry/v1\n" || JCS(entry); for a
// v2 bundle with `completeness`, that it holds every entry about the learner up to the learner
// index entry's tree size (completeness.js). Failures are TranscriptError with a `code` and, for
// an entry, its `index`. Not checked here (the CLI `verify-transcript` checks them): that each
// signing key belonged to its actor, witness cosignatures, and `recovered_signatures`.

import { canonicalBytes } from "./jcs.js";
import { base64Decode, concatBytes, equalBytes } from "./multibase.js";
import { verify } from "./ed25519.js";
import { leafHash, verifyInclusion } from "./merkle.js";
import { openCheckpoint } from "./checkpoint.js";
import { CompletenessError, checkCompleteness } from "./completeness.js";

export const TRANSCRIPT_FORMAT = "creditbank-transcript/v1";
export const TRANSCRIPT_V2 = "creditbank-transcript/v2";
export const TRANSCRIPT_FORMATS = [TRANSCRIPT_FORMAT, TRANSCRIPT_V2];
const ENTRY_DOMAIN = new TextEncoder().encode("creditbank-entry/v1\n");

export class TranscriptError extends Error {
  constructor(code, message, index = null) {
    super(message);
    this.name = "TranscriptError";
    this.code = code;
    this.index = index;
  }
}

function b64(text, code, what, index) {
  try {
    return base64Decode(text);
  } catch {
    throw new TranscriptError(code, `${what} is not base64`, index);
  }
}

async function checkEntry(item, position, checkpoint) {
  if (item === null || typeof item !== "object" || !("index" in item) || !("leaf" in item)
      || !("leaf_hash" in item) || !Array.isArray(item.inclusion_proof)) {
    throw new TranscriptError("FORMAT", `entries[${position}] must have index, leaf, leaf_hash and inclusion_proof`);
  }
  const { index } = item;
  if (!Number.isSafeInteger(index) || index < 0) throw new TranscriptError("FORMAT", `entries[${position}].index is not an integer`);
  let data;
  try {
    data = canonicalBytes(item.leaf, { integersOnly: true });
  } catch (error) {
    throw new TranscriptError("LEAF_HASH", `entry ${index}: the leaf is not canonical JSON: ${error.message}`, index);
  }
  const hashed = await leafHash(data);
  if (!equalBytes(hashed, b64(item.leaf_hash, "LEAF_HASH", `entry ${index} leaf_hash`, index))) {
    throw new TranscriptError("LEAF_HASH", `entry ${index}: leaf_hash is not the hash of the leaf`, index);
  }
  const proof = item.inclusion_proof.map((p) => b64(p, "INCLUSION", `entry ${index} inclusion proof`, index));
  try {
    await verifyInclusion(hashed, index, checkpoint.size, proof, checkpoint.rootHash);
  } catch (error) {
    throw new TranscriptError("INCLUSION", `entry ${index}: ${error.message}`, index);
  }
  const signature = item.leaf.signature ?? {};
  let ok = false;
  try {
    const message = concatBytes(ENTRY_DOMAIN, canonicalBytes(item.leaf.entry, { integersOnly: true }));
    ok = signature.alg === "Ed25519" && await verify(base64Decode(signature.public_key), base64Decode(signature.sig), message);
  } catch {
    ok = false;
  }
  if (!ok) throw new TranscriptError("ENTRY_SIGNATURE", `entry ${index}: the actor's signature does not verify`, index);
  return { index, type: item.leaf.entry?.type, body: item.leaf.entry?.body, leaf: item.leaf, leafHash: hashed };
}

/**
 * Verify a transcript with the given log key (a signed-note verifier key string; by default the
 * one the transcript names, which is only as trustworthy as whatever vouches for the transcript).
 * Returns {checkpoint, entries: [{index, type, body, leaf, leafHash}], format, completeAsOf}, where
 * `completeAsOf` is the tree size up to which the bundle is proven to hold every entry about its
 * learner (v2 with `completeness`), or null: not proven complete (v1, or v2 without it).
 */
export async function verifyTranscript(transcript, logKey = undefined) {
  if (transcript === null || typeof transcript !== "object" || !TRANSCRIPT_FORMATS.includes(transcript.format)) {
    throw new TranscriptError("FORMAT", `not a ${TRANSCRIPT_FORMATS.join(" or ")} document`);
  }
  if (!Array.isArray(transcript.entries)) throw new TranscriptError("FORMAT", "transcript entries must be a list");
  const key = logKey ?? transcript.log?.verifier_key;
  if (typeof key !== "string") throw new TranscriptError("LOG_KEY", "the transcript names no log key");
  let checkpoint;
  try {
    checkpoint = await openCheckpoint(transcript.checkpoint, key, { origin: transcript.log?.origin });
  } catch (error) {
    throw new TranscriptError("CHECKPOINT", `checkpoint: ${error.message}`);
  }
  const seen = new Set();
  const entries = [];
  for (const [position, item] of transcript.entries.entries()) {
    if (seen.has(item?.index)) throw new TranscriptError("FORMAT", `entry ${item.index} appears twice in the transcript`, item.index);
    seen.add(item?.index);
    entries.push(await checkEntry(item, position, checkpoint));
  }
  let completeAsOf = null;
  if (transcript.format === TRANSCRIPT_V2 && transcript.completeness != null) {
    if (typeof transcript.learner_id !== "string" || !transcript.learner_id) {
      throw new TranscriptError("FORMAT", "the transcript's learner_id must be a non-empty string");
    }
    try {
      completeAsOf = await checkCompleteness(transcript.learner_id, transcript.completeness, entries);
    } catch (error) {
      if (!(error instanceof CompletenessError)) throw error;
      throw new TranscriptError("COMPLETENESS", error.message);
    }
  }
  return { checkpoint, entries, format: transcript.format, completeAsOf };
}
