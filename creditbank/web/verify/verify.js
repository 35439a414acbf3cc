// The /verify page: load a credential (a dropped file, or ?credential=URL from a QR code), run
// every check in this browser with the project's crypto library, and show what passed and what
// failed, in Chinese or English. When done it sets data-result="valid" or "invalid" on
// #verification-result. The signature, issuer (did:key) and log evidence checks need no network;
// the status list (and a did:web issuer) are fetched, and reported as unconfirmed when offline.

import { ed25519Supported } from "/static/js/crypto/ed25519.js";
import { verifyProof } from "/static/js/crypto/eddsa-jcs-2022.js";
import { statusAt } from "/static/js/crypto/statuslist.js";
import { TRANSCRIPT_FORMATS, verifyTranscript } from "/static/js/crypto/transcript.js";
import { openCheckpoint } from "/static/js/crypto/checkpoint.js";
import { verifyConsistency } from "/static/js/crypto/merkle.js";
import { base64Decode } from "/static/js/crypto/multibase.js";

const root = document.getElementById("verify");
const result = document.getElementById("verification-result");
const MESSAGES = JSON.parse(document.getElementById("verify-messages").textContent);
const CHECK_ORDER = ["load", "format", "signature", "issuer", "validity", "status", "achievements", "evidence", "complete", "log"];
let lang = root.dataset.lang;
let lastRun = null;

function t(key, params = {}) {
  const text = MESSAGES[lang][key] ?? MESSAGES.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
}

const pass = (key, params) => ({ status: "pass", key, params });
const fail = (key, params) => ({ status: "fail", key, params });
const warn = (key, params) => ({ status: "warn", key, params });

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function idOf(value) {
  return typeof value === "string" ? value : isObject(value) ? value.id : undefined;
}

async function fetchJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/vc+ld+json, application/json" }, cache: "no-store", referrerPolicy: "no-referrer" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

// --- the checks --------------------------------------------------------------------------------

function checkFormat(credential) {
  const context = credential["@context"];
  if (!Array.isArray(context) || context[0] !== "https://www.w3.org/ns/credentials/v2") return fail("format_context");
  const types = [].concat(credential.type ?? []);
  if (!types.includes("VerifiableCredential")) return fail("format_type");
  return pass("format_ok");
}

async function checkSignature(credential) {
  try {
    const verified = await verifyProof(credential);
    return { ...pass("sig_ok", { vm: verified.verificationMethod }), vm: verified.verificationMethod };
  } catch (error) {
    const code = error.code ?? "SIGNATURE";
    return fail(`sig_${code}`, { detail: error.message });
  }
}

function didWebUrl(did) {
  const parts = did.slice("did:web:".length).split(":").map(decodeURIComponent);
  const host = parts.shift();
  const local = /^(localhost|127\.0\.0\.1)(:\d+)?$/.test(host);
  const path = parts.length ? `/${parts.join("/")}/did.json` : "/.well-known/did.json";
  return `${local ? "http" : "https"}://${host}${path}`;
}

// The DID document vouches for the key when its assertionMethod names the verification method
// itself, or names (or embeds) a method whose publicKeyMultibase is that same key.
function listsKey(document, vm) {
  const multikey = vm.split("#")[1];
  const methods = [].concat(document.verificationMethod ?? []).filter(isObject);
  const absolute = (id) => (typeof id === "string" && id.startsWith("#") ? `${document.id}${id}` : id);
  return [].concat(document.assertionMethod ?? []).some((entry) => {
    if (absolute(idOf(entry)) === vm) return true;
    const method = isObject(entry) ? entry : methods.find((m) => absolute(m.id) === absolute(entry));
    return method?.publicKeyMultibase === multikey;
  });
}

async function checkIssuer(credential, vm) {
  const issuer = idOf(credential.issuer);
  if (typeof vm !== "string") return fail("issuer_unknown", { issuer });
  const did = vm.split("#")[0];
  if (issuer === did) return pass("issuer_did_key", { did });
  if (typeof issuer === "string" && issuer.startsWith("did:key:")) return fail("issuer_not_listed", { vm, issuer });
  if (typeof issuer === "string" && issuer.startsWith("did:web:")) {
    let document;
    try {
      document = await fetchJson(didWebUrl(issuer));
    } catch {
      return warn("issuer_offline", { issuer });
    }
    return listsKey(document, vm) ? pass("issuer_listed") : fail("issuer_not_listed", { vm, issuer });
  }
  return warn("issuer_unknown", { issuer });
}

// A credential fetched right after issuance must not look "not yet valid" on a device whose clock
// is a little behind the issuer's.
const CLOCK_SKEW_MS = 5 * 60 * 1000;

function checkValidity(credential, now = new Date()) {
  const from = Date.parse(credential.validFrom);
  if (typeof credential.validFrom !== "string" || Number.isNaN(from)) return fail("validity_bad");
  if (from > now.getTime() + CLOCK_SKEW_MS) return fail("validity_not_yet", { detail: credential.validFrom });
  if (credential.validUntil !== undefined && !(Date.parse(credential.validUntil) >= now.getTime())) {
    return fail("validity_expired", { detail: credential.validUntil });
  }
  return pass("validity_ok");
}

async function checkOneStatus(credential, entry) {
  const url = entry.statusListCredential;
  const index = /^(0|[1-9][0-9]*)$/.test(String(entry.statusListIndex)) ? Number(entry.statusListIndex) : NaN;
  if (entry.type !== "BitstringStatusListEntry" || typeof url !== "string" || !Number.isSafeInteger(index)) {
    return fail("status_list_bad", { detail: "credentialStatus is not a BitstringStatusListEntry" });
  }
  let list;
  try {
    list = await fetchJson(url);
  } catch (error) {
    // fetch() rejects with a TypeError when the network is unreachable; anything else is an answer.
    return error instanceof TypeError ? warn("status_offline", { url }) : warn("status_unreadable", { url, detail: error.message });
  }
  try {
    await verifyProof(list);
  } catch (error) {
    return fail("status_list_signature", { detail: error.message });
  }
  if (idOf(list.issuer) !== idOf(credential.issuer)) return fail("status_list_issuer");
  const subject = list.credentialSubject ?? {};
  if (![].concat(list.type ?? []).includes("BitstringStatusListCredential") || subject.type !== "BitstringStatusList") {
    return fail("status_list_bad", { detail: "not a BitstringStatusListCredential" });
  }
  if (subject.statusPurpose !== entry.statusPurpose) return fail("status_list_bad", { detail: "statusPurpose differs" });
  if (list.validUntil !== undefined && !(Date.parse(list.validUntil) >= Date.now())) {
    return fail("status_list_bad", { detail: `expired ${list.validUntil}` });
  }
  let bit;
  try {
    bit = await statusAt(subject.encodedList, index, entry.statusSize ?? 1);
  } catch (error) {
    return fail("status_list_bad", { detail: error.message });
  }
  if (bit === 0) return pass("status_ok", { index });
  const revoked = entry.statusPurpose === "revocation";
  return { ...fail(revoked ? "status_revoked" : "status_suspended", { index }), revoked };
}

async function checkStatus(credential) {
  const entries = [].concat(credential.credentialStatus ?? []);
  if (!entries.length) return [warn("status_none")];
  return Promise.all(entries.map((entry) => checkOneStatus(credential, entry)));
}

// CLR 2.0 embeds each achievement as its own signed OpenBadgeCredential: check every one.
async function checkAchievements(credential) {
  const embedded = [].concat(credential.credentialSubject?.verifiableCredential ?? []);
  if (!embedded.length) return warn("ach_none");
  for (const [position, item] of embedded.entries()) {
    const name = (isObject(item) && typeof item.name === "string") ? item.name : `#${position + 1}`;
    try {
      await verifyProof(item);
    } catch (error) {
      return fail("ach_fail", { name, detail: error.message });
    }
    if (idOf(item.issuer) !== idOf(credential.issuer)) return fail("ach_issuer", { name });
  }
  return pass("ach_ok", { count: embedded.length });
}

function findTranscripts(credential) {
  const found = [];
  for (const item of [].concat(credential.evidence ?? [])) {
    if (!isObject(item)) continue;
    const isTranscript = (value) => isObject(value) && TRANSCRIPT_FORMATS.includes(value.format);
    if (isTranscript(item)) found.push(item);
    for (const value of Object.values(item)) if (isTranscript(value)) found.push(value);
  }
  return found;
}

async function checkEvidence(credential) {
  const transcripts = findTranscripts(credential);
  if (!transcripts.length) return [warn("evidence_none")];
  return Promise.all(transcripts.map(async (transcript) => {
    try {
      const checked = await verifyTranscript(transcript);
      const key = String(transcript.log?.verifier_key ?? "").split("+").slice(0, 2).join("+");
      return { ...pass("evidence_ok", { count: checked.entries.length, size: checked.checkpoint.size, key }), transcript, checkpoint: checked.checkpoint, completeAsOf: checked.completeAsOf };
    } catch (error) {
      return fail(`evidence_${error.code ?? "FORMAT"}`, { index: error.index ?? "", detail: error.message });
    }
  }));
}

// When the evidence comes from the log of the bank serving this page: its key must be one of the
// bank's log keys, and the evidence's checkpoint must be a prefix of the bank's current log (an
// RFC 9162 consistency proof), so the log was not rewritten since the credential was issued.
async function checkLog(transcript, checkpoint) {
  const origin = root.dataset.logOrigin;
  const keys = JSON.parse(root.dataset.logKeys || "[]");
  if (!origin || transcript.log?.origin !== origin) return warn("log_other", { origin: transcript.log?.origin ?? "" });
  if (!keys.includes(transcript.log?.verifier_key)) return fail("log_key_unknown");
  let note;
  try {
    const response = await fetch("/v1/log/checkpoint", { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    note = await response.text();
  } catch {
    return warn("log_offline");
  }
  let live = null;
  let lastError = null;
  for (const key of keys) {
    try {
      live = await openCheckpoint(note, key, { origin });
      break;
    } catch (error) {
      lastError = error;
    }
  }
  if (!live) return fail("log_checkpoint_bad", { detail: lastError?.message ?? "" });
  if (live.size < checkpoint.size) {
    return fail("log_inconsistent", { detail: `the log has ${live.size} entries, fewer than the evidence's ${checkpoint.size}` });
  }
  let hashes;
  try {
    const response = await fetch(`/v1/log/proof/consistency?first=${checkpoint.size}&second=${live.size}`, { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    hashes = (await response.json()).hashes.map(base64Decode);
  } catch {
    return warn("log_offline");
  }
  try {
    await verifyConsistency(checkpoint.size, live.size, checkpoint.rootHash, live.rootHash, hashes);
  } catch (error) {
    return fail("log_inconsistent", { detail: error.message });
  }
  return pass("log_consistent", { old: checkpoint.size, new: live.size });
}

function achievements(value, out = [], depth = 0) {
  if (depth > 8 || value === null || typeof value !== "object") return out;
  if (Array.isArray(value)) {
    value.forEach((item) => achievements(item, out, depth + 1));
    return out;
  }
  if ([].concat(value.type ?? []).includes("Achievement") && typeof value.name === "string") out.push(value.name);
  for (const [key, item] of Object.entries(value)) if (key !== "proof") achievements(item, out, depth + 1);
  return out;
}

function summarise(credential) {
  const issuer = credential.issuer;
  const subject = credential.credentialSubject ?? {};
  return {
    summary_issuer: (isObject(issuer) && issuer.name ? `${issuer.name} (${issuer.id})` : idOf(issuer)) ?? "",
    summary_subject: idOf(subject) ?? subject.identifier?.[0]?.identityHash ?? "",
    summary_valid_from: credential.validFrom ?? "",
    summary_achievements: [...new Set(achievements(subject))].join("；"),
  };
}

async function runChecks(credential) {
  const checks = [];
  const add = (id, outcome) => checks.push({ id, ...outcome });
  const format = checkFormat(credential);
  add("format", format);
  const signature = await checkSignature(credential);
  add("signature", signature);
  add("issuer", await checkIssuer(credential, signature.vm ?? credential.proof?.verificationMethod));
  add("validity", checkValidity(credential));
  (await checkStatus(credential)).forEach((outcome) => add("status", outcome));
  add("achievements", await checkAchievements(credential));
  for (const outcome of await checkEvidence(credential)) {
    add("evidence", outcome);
    if (outcome.status !== "pass") continue;
    // Completeness (v2): every entry about the learner up to the index entry's tree size is in
    // the evidence, so none (a revocation, a reversal) can have been left out.
    add("complete", outcome.completeAsOf === null
      ? warn("complete_not_proven")
      : pass("complete_ok", { size: outcome.completeAsOf }));
    add("log", await checkLog(outcome.transcript, outcome.checkpoint));
  }
  return { checks, summary: summarise(credential) };
}

// --- rendering ---------------------------------------------------------------------------------

function render() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  document.getElementById("credential-file").setAttribute("aria-label", t("choose"));
  if (!lastRun) return;
  const heading = document.getElementById("result-heading");
  const { checks, summary, outcome } = lastRun;
  heading.removeAttribute("data-i18n");
  heading.textContent = outcome === "working" ? t("working") : t(outcome);
  const summaryList = document.getElementById("summary");
  summaryList.replaceChildren();
  for (const [key, value] of Object.entries(summary ?? {})) {
    if (!value) continue;
    const dt = document.createElement("dt");
    dt.textContent = t(key);
    const dd = document.createElement("dd");
    dd.textContent = value;
    summaryList.append(dt, dd);
  }
  summaryList.hidden = !summaryList.children.length;
  const list = document.getElementById("checks");
  list.replaceChildren();
  const sorted = [...checks].sort((a, b) => CHECK_ORDER.indexOf(a.id) - CHECK_ORDER.indexOf(b.id));
  for (const check of sorted) {
    const item = document.createElement("li");
    item.dataset.check = check.id;
    item.dataset.status = check.status;
    item.dataset.reason = check.key;
    const mark = document.createElement("span");
    mark.className = "mark";
    mark.textContent = `${{ pass: "✓", fail: "✗", warn: "!" }[check.status]} ${t(check.status)}`;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = ` ${t(`check_${check.id}`)}`;
    const detail = document.createElement("span");
    detail.className = "detail";
    detail.textContent = t(check.key, check.params);
    item.append(mark, name, detail);
    list.append(item);
  }
  if (outcome === "valid" && checks.some((c) => c.status === "warn")) {
    const note = document.createElement("li");
    note.className = "warnings";
    note.textContent = t("warnings");
    list.prepend(note);
  }
}

function finish(checks, summary) {
  const failed = checks.some((c) => c.status === "fail");
  const revoked = checks.some((c) => c.revoked);
  lastRun = { checks, summary, outcome: revoked ? "revoked" : failed ? "invalid" : "valid" };
  render();
  result.dataset.result = failed ? "invalid" : "valid";
}

async function verifyText(loader) {
  delete result.dataset.result;
  lastRun = { checks: [], summary: {}, outcome: "working" };
  render();
  let credential;
  try {
    credential = JSON.parse(await loader());
  } catch (error) {
    const key = error instanceof SyntaxError ? "load_json" : "load_fetch";
    finish([{ id: "load", ...fail(key, { detail: error.message }) }], {});
    return;
  }
  if (!isObject(credential)) {
    finish([{ id: "load", ...fail("load_json", { detail: "not a JSON object" }) }], {});
    return;
  }
  if (!(await ed25519Supported())) {
    finish([{ id: "load", ...fail("load_unsupported") }], summarise(credential));
    return;
  }
  const { checks, summary } = await runChecks(credential);
  finish(checks, summary);
}

// --- wiring ------------------------------------------------------------------------------------

const fileInput = document.getElementById("credential-file");
const dropZone = document.getElementById("drop-zone");
fileInput.addEventListener("change", () => {
  const [file] = fileInput.files;
  if (file) verifyText(() => file.text());
});
dropZone.addEventListener("dragover", (event) => {
  event.preventDefault();
  dropZone.classList.add("dragging");
});
dropZone.addEventListener("dragleave", () => dropZone.classList.remove("dragging"));
dropZone.addEventListener("drop", (event) => {
  event.preventDefault();
  dropZone.classList.remove("dragging");
  const [file] = event.dataTransfer.files;
  if (file) verifyText(() => file.text());
});
document.getElementById("language-switch").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  const url = new URL(window.location.href);
  url.searchParams.set("lang", lang);
  window.history.replaceState(null, "", url);
  try {
    window.localStorage.setItem("creditbank.lang", lang);
  } catch {
    // storage may be disabled; the URL still carries the choice
  }
  render();
});

const remembered = (() => {
  try {
    return window.localStorage.getItem("creditbank.lang");
  } catch {
    return null;
  }
})();
if (!new URL(window.location.href).searchParams.has("lang") && (remembered === "zh" || remembered === "en") && remembered !== lang) {
  lang = remembered;
  render();
}
const credentialUrl = root.dataset.credentialUrl;
if (credentialUrl) {
  verifyText(async () => {
    const response = await fetch(new URL(credentialUrl, window.location.href), { cache: "no-store", referrerPolicy: "no-referrer" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.text();
  });
}
