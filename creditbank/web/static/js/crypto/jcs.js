// RFC 8785 JSON Canonicalization Scheme (JCS) in the browser: the exact bytes the ledger signs
// and hashes, reproduced without any server. Plain ES module, no dependencies.
//
// Why these rules and no others:
// * numbers: RFC 8785 3.2.2.3 adopts ECMAScript's Number serialization, which is what
//   JSON.stringify(number) does in every conforming engine (-0 becomes 0; NaN and Infinity are
//   not JSON and are refused);
// * strings: RFC 8785 3.2.2.2 is JSON.stringify's escaping (\b \f \n \r \t \" \\, other controls
//   as lower-case \u00xx, everything else literal), but a lone surrogate is refused because it
//   has no UTF-8 form (I-JSON);
// * object members sorted by the UTF-16 code units of their names (3.2.3): that is what the
//   default Array.prototype.sort compares, so U+1F600 sorts before U+FB33.
//
// `canonicalize(value, {integersOnly: true})` additionally refuses what the ledger refuses:
// any non-integer number and integers beyond 2**53 - 1, so a page never signs an entry the
// server will reject.

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_DEPTH = 1000;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Raised for any value RFC 8785 cannot carry; `path` says where (like `$.a[1].b`). */
export class CanonicalizationError extends Error {
  constructor(message, path) {
    super(`${path}: ${message}`);
    this.name = "CanonicalizationError";
    this.path = path;
  }
}

function serializeNumber(value, path, integersOnly) {
  if (!Number.isFinite(value)) {
    throw new CanonicalizationError(`${value} is not a JSON number`, path);
  }
  if (integersOnly) {
    if (!Number.isInteger(value)) {
      throw new CanonicalizationError("floats are not allowed; carry exact decimals as strings", path);
    }
    if (Math.abs(value) > MAX_SAFE) {
      throw new CanonicalizationError(`integer ${value} is outside the exact JSON range`, path);
    }
  }
  return JSON.stringify(value);
}

function serializeString(value, path) {
  if (LONE_SURROGATE.test(value)) {
    throw new CanonicalizationError("a string holds a lone surrogate (not valid Unicode)", path);
  }
  return JSON.stringify(value);
}

function isPlainObject(value) {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function serialize(value, path, options, depth) {
  if (depth > MAX_DEPTH) {
    throw new CanonicalizationError("nesting is too deep (or the value is cyclic)", path);
  }
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      return serializeNumber(value, path, options.integersOnly);
    case "string":
      return serializeString(value, path);
    case "object":
      break;
    default:
      throw new CanonicalizationError(`${typeof value} is not a JSON value`, path);
  }
  if (Array.isArray(value)) {
    const parts = [];
    for (let i = 0; i < value.length; i += 1) {
      parts.push(serialize(value[i], `${path}[${i}]`, options, depth + 1));
    }
    return `[${parts.join(",")}]`;
  }
  if (!isPlainObject(value)) {
    throw new CanonicalizationError(`${value.constructor?.name ?? "object"} is not a JSON value`, path);
  }
  const names = Object.keys(value).sort(); // UTF-16 code unit order, as RFC 8785 3.2.3 requires
  const parts = [];
  for (const name of names) {
    const where = `${path}.${name}`;
    const member = serialize(value[name], where, options, depth + 1);
    parts.push(`${serializeString(name, where)}:${member}`);
  }
  return `{${parts.join(",")}}`;
}

/** The RFC 8785 canonical form of a JSON value, as a string. */
export function canonicalize(value, options = {}) {
  return serialize(value, "$", { integersOnly: Boolean(options.integersOnly) }, 0);
}

/** The RFC 8785 canonical form as UTF-8 bytes: what is hashed and signed. */
export function canonicalBytes(value, options = {}) {
  return new TextEncoder().encode(canonicalize(value, options));
}

/**
 * Parse UTF-8 bytes (or a string) that must already be canonical; refuse anything that does not
 * re-serialise byte for byte, so what was signed is exactly what is checked.
 */
export function parseCanonical(data, options = {}) {
  const text = typeof data === "string" ? data : new TextDecoder("utf-8", { fatal: true }).decode(data);
  const value = JSON.parse(text);
  if (canonicalize(value, options) !== text) {
    throw new CanonicalizationError("bytes are valid JSON but not in RFC 8785 canonical form", "$");
  }
  return value;
}
