// The Data Integrity cryptosuite eddsa-jcs-2022 (W3C vc-di-eddsa): create and verify proofs.
//   proofConfig = the proof without proofValue (with the document's @context when it has one)
//   hashData    = SHA-256(JCS(proofConfig)) || SHA-256(JCS(document without proof))
//   proofValue  = multibase base58btc of Ed25519(hashData)
// Verification resolves the did:key verification method offline, so the signature check needs
// no network. Every failure is a DataIntegrityError whose `code` names what failed.

import { canonicalBytes } from "./jcs.js";
import { concatBytes, multibaseDecode, multibaseEncode } from "./multibase.js";
import { resolveDidKey, sha256, sign, verify } from "./ed25519.js";

export const CRYPTOSUITE = "eddsa-jcs-2022";

export class DataIntegrityError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "DataIntegrityError";
    this.code = code;
  }
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

async function hashData(unsecured, proofConfig) {
  const proofHash = await sha256(canonicalBytes(proofConfig));
  const docHash = await sha256(canonicalBytes(unsecured));
  return concatBytes(proofHash, docHash);
}

function contextStartsWith(documentContext, proofContext) {
  const doc = Array.isArray(documentContext) ? documentContext : [documentContext];
  const proof = Array.isArray(proofContext) ? proofContext : [proofContext];
  return proof.every((item, i) => JSON.stringify(doc[i]) === JSON.stringify(item));
}

/** The intermediate values of verification, exposed so tests can compare them step by step. */
export async function transform(secured) {
  if (!isObject(secured)) throw new DataIntegrityError("PROOF_MISSING", "the document is not a JSON object");
  const proof = secured.proof;
  if (!isObject(proof)) throw new DataIntegrityError("PROOF_MISSING", "the document carries no single proof object");
  const { proof: _unused, ...unsecured } = secured;
  const { proofValue, ...proofConfig } = proof;
  if (proofConfig.type !== "DataIntegrityProof") {
    throw new DataIntegrityError("PROOF_TYPE", `proof type is ${JSON.stringify(proofConfig.type)}, not DataIntegrityProof`);
  }
  if (proofConfig.cryptosuite !== CRYPTOSUITE) {
    throw new DataIntegrityError("PROOF_TYPE", `cryptosuite is ${JSON.stringify(proofConfig.cryptosuite)}, not ${CRYPTOSUITE}`);
  }
  if ("@context" in proofConfig) {
    if (!contextStartsWith(secured["@context"], proofConfig["@context"])) {
      throw new DataIntegrityError("PROOF_CONTEXT", "the document's @context does not start with the proof's @context");
    }
    unsecured["@context"] = proofConfig["@context"];
  }
  return { unsecured, proofConfig, proofValue };
}

/**
 * Verify an eddsa-jcs-2022 proof. Resolves `did:key` verification methods (the only method
 * resolved offline); `options.expectedPurpose` defaults to assertionMethod.
 * Returns {verificationMethod, publicKey, proof}; throws DataIntegrityError otherwise.
 */
export async function verifyProof(secured, options = {}) {
  const purpose = options.expectedPurpose ?? "assertionMethod";
  const { unsecured, proofConfig, proofValue } = await transform(secured);
  if (proofConfig.proofPurpose !== purpose) {
    throw new DataIntegrityError("PROOF_PURPOSE", `proof purpose is ${JSON.stringify(proofConfig.proofPurpose)}, not ${purpose}`);
  }
  let resolved;
  try {
    resolved = resolveDidKey(proofConfig.verificationMethod);
  } catch (error) {
    throw new DataIntegrityError("VERIFICATION_METHOD", `verification method cannot be resolved: ${error.message}`);
  }
  // A did:key document lists its one key under every verification relationship.
  if (!resolved.document[purpose]?.includes(`${resolved.did}#${resolved.did.slice("did:key:".length)}`)) {
    throw new DataIntegrityError("VERIFICATION_METHOD", `the key is not authorised for ${purpose}`);
  }
  let signature;
  try {
    if (typeof proofValue !== "string" || !proofValue.startsWith("z")) throw new Error("not base58btc");
    signature = multibaseDecode(proofValue);
  } catch (error) {
    throw new DataIntegrityError("PROOF_VALUE", `proofValue is not multibase base58btc: ${error.message}`);
  }
  if (signature.length !== 64) throw new DataIntegrityError("PROOF_VALUE", "proofValue is not a 64-byte Ed25519 signature");
  let data;
  try {
    data = await hashData(unsecured, proofConfig);
  } catch (error) {
    throw new DataIntegrityError("CANONICALIZATION", `the document cannot be canonicalised: ${error.message}`);
  }
  if (!(await verify(resolved.publicKey, signature, data))) {
    throw new DataIntegrityError("SIGNATURE", "the Ed25519 signature does not match the document and the key");
  }
  return { verificationMethod: proofConfig.verificationMethod, publicKey: resolved.publicKey, proof: proofConfig };
}

/** Add an eddsa-jcs-2022 proof (signed with a private CryptoKey) to a copy of `unsecured`. */
export async function addProof(unsecured, privateKey, proofOptions) {
  const proofConfig = { type: "DataIntegrityProof", cryptosuite: CRYPTOSUITE, ...proofOptions };
  if (unsecured["@context"] !== undefined) proofConfig["@context"] = unsecured["@context"];
  const signature = await sign(privateKey, await hashData(unsecured, proofConfig));
  return { ...unsecured, proof: { ...proofConfig, proofValue: multibaseEncode(signature, "z") } };
}
