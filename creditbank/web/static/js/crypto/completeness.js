// Completeness of a creditbank-transcript/v2, checked in the browser exactly as
// accounts/completeness.py and ledger/learner_index.py check it in Python:
//   * the bundle's `completeness.index_entry` names one of its (already inclusion-proven and
//     signature-checked) entries: a `ledger.learner_index` entry of the `system` actor whose body's
//     `tree_size` is its own index, committing to the learner index root;
//   * the map proof leads from the learner's value (count, head index, head leaf hash) to that root
//     (a compressed sparse Merkle tree keyed by SHA-256 of the learner id; see learner_index.py);
//   * the learner's chained entries, in bundle order, are seq 1..count, each `prev` the leaf hash of
//     the one before, the last being the head.
// Failures throw CompletenessError naming what failed (the same wording as the Python verifier).

import { base64Decode, concatBytes, equalBytes, hexToBytes } from "./multibase.js";
import { sha256 } from "./ed25519.js";

export const INDEX_ENTRY_TYPE = "ledger.learner_index";

export class CompletenessError extends Error {
  constructor(message) {
    super(message);
    this.name = "CompletenessError";
  }
}

function hash32(text, what) {
  let raw;
  try {
    raw = base64Decode(text);
  } catch {
    throw new CompletenessError(`${what} is not base64`);
  }
  if (raw.length !== 32) throw new CompletenessError(`${what} must be 32 bytes`);
  return raw;
}

function u64(value) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

function parseValue(raw) {
  if (raw === null || raw === undefined) return null;
  const keys = Object.keys(raw ?? {}).sort().join(",");
  if (typeof raw !== "object" || keys !== "count,head_index,head_leaf_hash") {
    throw new CompletenessError("an index value has count, head_index and head_leaf_hash");
  }
  for (const n of [raw.count, raw.head_index]) {
    if (!Number.isSafeInteger(n) || n < 0) throw new CompletenessError("index value count and head_index are non-negative integers");
  }
  return { count: raw.count, headIndex: raw.head_index, headLeafHash: hash32(raw.head_leaf_hash, "head_leaf_hash") };
}

const bit = (key, depth) => (key[depth >> 3] >> (7 - (depth & 7))) & 1;

async function mapLeaf(key, valueHash) {
  return sha256(concatBytes(new Uint8Array([0]), key, valueHash));
}

/** Throw unless `proof` shows `learnerId` maps to `value` (null: absent) under `root`. */
export async function verifyMapProof(root, learnerId, value, proof) {
  if (proof === null || typeof proof !== "object" || !Array.isArray(proof.siblings)) {
    throw new CompletenessError("a map proof is an object with a list of siblings");
  }
  if (proof.siblings.length > 256) throw new CompletenessError("a map proof has at most 256 siblings");
  const siblings = proof.siblings.map((s) => hash32(s, "map proof sibling"));
  const key = await sha256(new TextEncoder().encode(learnerId));
  const depth = siblings.length;
  let current;
  if (value !== null) {
    if (proof.terminal !== "leaf") throw new CompletenessError(`the map proof shows no entry for learner ${learnerId}`);
    const encoded = concatBytes(u64(value.count), u64(value.headIndex), value.headLeafHash);
    current = await mapLeaf(key, await sha256(encoded));
  } else if (proof.terminal === "empty") {
    current = new Uint8Array(32);
  } else if (proof.terminal === "other") {
    let other;
    try {
      other = hexToBytes(String(proof.other_key));
    } catch {
      throw new CompletenessError("map proof other_key is not hex");
    }
    if (other.length !== 32) throw new CompletenessError("map proof other_key must be 32 bytes");
    let shares = !equalBytes(other, key);
    for (let d = 0; d < depth && shares; d += 1) shares = bit(other, d) === bit(key, d);
    if (!shares) throw new CompletenessError("the map proof's other leaf does not share this learner's path");
    current = await mapLeaf(other, hash32(proof.other_value_hash, "other_value_hash"));
  } else {
    throw new CompletenessError(`the map proof claims an entry for learner ${learnerId}`);
  }
  for (let level = depth - 1; level >= 0; level -= 1) {
    const pair = bit(key, level) ? [siblings[level], current] : [current, siblings[level]];
    current = await sha256(concatBytes(new Uint8Array([1]), ...pair));
  }
  if (!equalBytes(current, root)) throw new CompletenessError(`the map proof for learner ${learnerId} does not lead to the index root`);
}

function checkIndexEntry(index, leaf) {
  const entry = leaf?.entry ?? {};
  if (entry.type !== INDEX_ENTRY_TYPE || entry.actor !== "system") {
    throw new CompletenessError(`entry ${index} is not a learner index entry signed by the system actor`);
  }
  if (entry.body?.tree_size !== index) {
    throw new CompletenessError(`index entry ${index} does not cover exactly the entries before it`);
  }
  return hash32(entry.body?.root, `index entry ${index}: root`);
}

function chainLink(leaf, index) {
  const link = leaf.chain;
  if (link === undefined) return null;
  const ok = link !== null && typeof link === "object" && typeof link.learner === "string"
    && Number.isSafeInteger(link.seq) && link.seq >= 1 && (link.seq === 1 ? link.prev === null : typeof link.prev === "string");
  if (!ok) throw new CompletenessError(`entry ${index}: leaf.chain must be {learner, seq, prev}`);
  return { learner: link.learner, seq: link.seq, prev: link.prev === null ? null : hash32(link.prev, `entry ${index} chain.prev`) };
}

function chained(learnerId, entries, treeSize) {
  const out = [];
  let last = -1;
  for (const { index, leaf, leafHash } of entries) {
    const link = chainLink(leaf, index);
    if (link === null) {
      if (leaf.entry?.body?.learner_id === learnerId) {
        throw new CompletenessError(`entry ${index} is about ${learnerId} but carries no chain link: it cannot be proven part of the learner's history`);
      }
      continue;
    }
    if (link.learner !== learnerId) {
      throw new CompletenessError(`entry ${index} belongs to learner ${link.learner}'s history, not ${learnerId}'s: an entry was substituted`);
    }
    if (index <= last) throw new CompletenessError(`entry ${index} is out of order: it comes after entry ${last}`);
    if (index >= treeSize) throw new CompletenessError(`entry ${index} is beyond the ${treeSize} entries the index entry covers`);
    last = index;
    out.push({ index, link, leafHash });
  }
  return out;
}

function walk(learnerId, links, value, treeSize) {
  if (value === null) {
    if (links.length) throw new CompletenessError(`the index shows no entries of ${learnerId} as of tree size ${treeSize}, but the transcript has ${links.length}`);
    return;
  }
  let previous = null;
  links.forEach(({ index, link, leafHash }, i) => {
    const position = i + 1;
    if (link.seq < position) throw new CompletenessError(`entry ${index} repeats seq ${link.seq} of ${learnerId}: a duplicate`);
    if (link.seq > position) {
      const after = previous ? `after entry ${previous.index}` : "at the start";
      throw new CompletenessError(`${link.seq - position} entry(ies) of ${learnerId} are missing ${after} (entry ${index} has seq ${link.seq}, expected ${position})`);
    }
    if (previous && !equalBytes(link.prev, previous.leafHash)) {
      throw new CompletenessError(`entry ${index} does not follow entry ${previous.index} in ${learnerId}'s chain: an entry was substituted`);
    }
    previous = { index, leafHash };
  });
  if (links.length !== value.count) {
    const missing = value.count - links.length;
    const detail = missing > 0 ? `: ${missing} missing${previous ? ` after entry ${previous.index}` : ""}` : "";
    throw new CompletenessError(`the index shows ${value.count} entries of ${learnerId} as of tree size ${treeSize}; the transcript has ${links.length}${detail}`);
  }
  if (previous.index !== value.headIndex || !equalBytes(previous.leafHash, value.headLeafHash)) {
    throw new CompletenessError(`the transcript's last entry ${previous.index} is not ${learnerId}'s last entry as of tree size ${treeSize} (the index says entry ${value.headIndex})`);
  }
}

/**
 * Prove the bundle holds every entry about `learnerId` before the index entry's tree size.
 * `entries`: the bundle's verified entries in bundle order, each {index, leaf, leafHash}.
 * Returns the tree size the transcript is complete as of.
 */
export async function checkCompleteness(learnerId, completeness, entries) {
  if (completeness === null || typeof completeness !== "object" || !("index_entry" in completeness)
      || !("value" in completeness) || !("map_proof" in completeness)) {
    throw new CompletenessError("completeness must be an object with index_entry, value and map_proof");
  }
  const entryIndex = completeness.index_entry;
  const indexEntry = entries.find((e) => e.index === entryIndex);
  if (!Number.isSafeInteger(entryIndex) || !indexEntry) {
    throw new CompletenessError("completeness.index_entry must name an entry of the bundle");
  }
  const root = checkIndexEntry(entryIndex, indexEntry.leaf);
  const value = parseValue(completeness.value);
  await verifyMapProof(root, learnerId, value, completeness.map_proof);
  const links = chained(learnerId, entries.filter((e) => e.index !== entryIndex), entryIndex);
  walk(learnerId, links, value, entryIndex);
  return entryIndex;
}
