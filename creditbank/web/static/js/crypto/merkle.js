// RFC 9162 (Certificate Transparency v2) section 2.1: leaf and node hashes, and verification of
// inclusion (2.1.3.2) and consistency (2.1.4.2) proofs, exactly as ledger/merkle.py does it.
// Verifiers throw ProofError naming what did not hold; they never return false.

import { concatBytes, equalBytes } from "./multibase.js";
import { sha256 } from "./ed25519.js";

export class ProofError extends Error {
  constructor(message) {
    super(message);
    this.name = "ProofError";
  }
}

export const HASH_SIZE = 32;

export async function leafHash(leaf) {
  return sha256(concatBytes(new Uint8Array([0]), leaf));
}

export async function nodeHash(left, right) {
  return sha256(concatBytes(new Uint8Array([1]), left, right));
}

function checkHash(value, what) {
  if (!(value instanceof Uint8Array) || value.length !== HASH_SIZE) {
    throw new ProofError(`${what} is not a ${HASH_SIZE}-byte SHA-256 hash`);
  }
}

function checkSize(value, what) {
  if (!Number.isSafeInteger(value) || value < 0) throw new ProofError(`${what} is not a non-negative integer`);
}

/** Check that `leaf` (a leaf hash) is leaf `index` of the tree of `treeSize` leaves with `root`. */
export async function verifyInclusion(leaf, index, treeSize, proof, root) {
  checkHash(leaf, "leaf hash");
  checkHash(root, "root hash");
  proof.forEach((p, i) => checkHash(p, `proof[${i}]`));
  checkSize(index, "index");
  checkSize(treeSize, "tree size");
  if (index >= treeSize) throw new ProofError(`index ${index} is outside a tree of size ${treeSize}`);
  // BigInt keeps the bit arithmetic exact beyond 2**31.
  let fn = BigInt(index);
  let sn = BigInt(treeSize - 1);
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) throw new ProofError("inclusion proof is longer than the tree is deep");
    if (fn & 1n || fn === sn) {
      r = await nodeHash(p, r);
      if (!(fn & 1n)) {
        while (fn && !(fn & 1n)) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new ProofError("inclusion proof is shorter than the tree is deep");
  if (!equalBytes(r, root)) {
    throw new ProofError(`inclusion proof for index ${index} does not lead to the given root`);
  }
}

/** Check that the tree of `oldSize` with `oldRoot` is a prefix of the tree of `newSize` with `newRoot`. */
export async function verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
  checkHash(oldRoot, "old root");
  checkHash(newRoot, "new root");
  proof.forEach((p, i) => checkHash(p, `proof[${i}]`));
  checkSize(oldSize, "old size");
  checkSize(newSize, "new size");
  if (oldSize > newSize) throw new ProofError(`a tree cannot shrink from size ${oldSize} to ${newSize}`);
  if (oldSize === newSize) {
    if (proof.length) throw new ProofError("equal tree sizes need an empty consistency proof");
    if (!equalBytes(oldRoot, newRoot)) throw new ProofError(`two different roots for the same tree size ${oldSize}`);
    return;
  }
  if (oldSize === 0) {
    if (proof.length) throw new ProofError("a consistency proof from the empty tree must be empty");
    return;
  }
  if (!proof.length) throw new ProofError("consistency proof is empty");
  const path = [...proof];
  const old = BigInt(oldSize);
  if ((old & (old - 1n)) === 0n) path.unshift(oldRoot);
  let fn = old - 1n;
  let sn = BigInt(newSize) - 1n;
  while (fn & 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) throw new ProofError("consistency proof is too long");
    if (fn & 1n || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      if (!(fn & 1n)) {
        while (fn && !(fn & 1n)) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new ProofError("consistency proof is too short");
  if (!equalBytes(fr, oldRoot)) throw new ProofError(`consistency proof does not reproduce the root of size ${oldSize}`);
  if (!equalBytes(sr, newRoot)) throw new ProofError(`consistency proof does not reproduce the root of size ${newSize}`);
}
