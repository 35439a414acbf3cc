// W3C Bitstring Status List: decode `encodedList` (multibase base64url of the GZIP-compressed
// bitstring) with the browser's DecompressionStream, and read entries. Index 0 is the left-most
// (most significant) bit of the first byte, as the specification defines.

import { multibaseDecode } from "./multibase.js";

export class StatusListError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "StatusListError";
    this.code = code;
  }
}

// The specification's minimum list: 16 KiB (131,072 entries), for herd privacy.
export const MIN_BITS = 131072;

async function gunzip(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The raw bitstring of an encodedList. */
export async function decodeList(encodedList) {
  if (typeof encodedList !== "string" || !encodedList.startsWith("u")) {
    throw new StatusListError("STATUS_LIST_ENCODING", "encodedList must be multibase base64url (start with 'u')");
  }
  let compressed;
  try {
    compressed = multibaseDecode(encodedList);
  } catch (error) {
    throw new StatusListError("STATUS_LIST_ENCODING", `encodedList is not base64url: ${error.message}`);
  }
  try {
    return await gunzip(compressed);
  } catch (error) {
    throw new StatusListError("STATUS_LIST_ENCODING", `encodedList is not GZIP data: ${error.message}`);
  }
}

/** The value of entry `index` (of `statusSize` bits, default 1) in a decoded bitstring. */
export function readEntry(bitstring, index, statusSize = 1) {
  if (!Number.isSafeInteger(index) || index < 0) throw new StatusListError("STATUS_LIST_INDEX", "the status list index is not a non-negative integer");
  if (!Number.isSafeInteger(statusSize) || statusSize < 1 || statusSize > 8) throw new StatusListError("STATUS_LIST_INDEX", "statusSize must be 1..8");
  const first = index * statusSize;
  if (first + statusSize > bitstring.length * 8) {
    throw new StatusListError("STATUS_LIST_LENGTH", `index ${index} is beyond the list's ${bitstring.length * 8} bits`);
  }
  let value = 0;
  for (let bit = first; bit < first + statusSize; bit += 1) {
    value = (value << 1) | ((bitstring[bit >> 3] >> (7 - (bit & 7))) & 1);
  }
  return value;
}

/** Decode `encodedList` and read one entry; the list must be at least the minimum size. */
export async function statusAt(encodedList, index, statusSize = 1) {
  const bits = await decodeList(encodedList);
  if (bits.length * 8 < MIN_BITS * statusSize) {
    throw new StatusListError("STATUS_LIST_LENGTH", `the status list is shorter than the minimum ${MIN_BITS} entries`);
  }
  return readEntry(bits, index, statusSize);
}
