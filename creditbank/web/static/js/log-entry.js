// Checks one log entry's inclusion proof in the browser, with the project's crypto modules:
// the checkpoint's signature under the log key, SHA-256(0x00 || RFC 8785(leaf)), and the RFC 9162
// path from that leaf hash to the checkpoint's root. The server's word is not taken for anything.
import { canonicalBytes } from "./crypto/jcs.js";
import { openCheckpoint } from "./crypto/checkpoint.js";
import { leafHash, verifyInclusion } from "./crypto/merkle.js";
import { base64Decode, equalBytes } from "./crypto/multibase.js";

const section = document.getElementById("inclusion");
const status = document.getElementById("inclusion-status");

async function text(url) {
  const answer = await fetch(url);
  if (!answer.ok) throw new Error(`${url}: HTTP ${answer.status}`);
  return answer.text();
}

async function check() {
  const index = Number(section.dataset.index);
  const size = Number(section.dataset.treeSize);
  status.textContent = status.dataset.checking;
  const [vkey, note, entry, proof] = await Promise.all([
    text("/v1/log/key"),
    text(`/v1/log/checkpoints/${size}`),
    text(`/v1/log/entries/${index}`).then(JSON.parse),
    text(`/v1/log/proof/inclusion?index=${index}&tree_size=${size}`).then(JSON.parse),
  ]);
  const checkpoint = await openCheckpoint(note, vkey.trim());
  if (checkpoint.size !== size) throw new Error("the checkpoint is for another tree size");
  const hash = await leafHash(canonicalBytes(entry.leaf));
  if (!equalBytes(hash, base64Decode(entry.leaf_hash))) throw new Error("leaf hash mismatch");
  await verifyInclusion(hash, index, size, proof.hashes.map(base64Decode), checkpoint.rootHash);
  return checkpoint;
}

if (section && status) {
  check().then(
    (checkpoint) => {
      status.textContent = status.dataset.ok;
      status.className = "ok";
      section.dataset.verified = "true";
      section.dataset.root = Array.from(checkpoint.rootHash, (b) => b.toString(16).padStart(2, "0")).join("");
    },
    (error) => {
      status.textContent = `${status.dataset.bad} ${error.message}`;
      status.className = "error";
      section.dataset.verified = "false";
    },
  );
}
