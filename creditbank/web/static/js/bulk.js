// Bulk imports: the rows of a checked cohort file (the form's data-items, one per row, made by the
// server from the same checks as `creditbank import`) signed here with the signer's key and posted
// in all-or-nothing batches, as the CLI's Importer does (accounts/cohorts.py): every row's nonce
// is asked about first (POST /web/imports/known-nonces) and rows already in the log are left out,
// so importing a file again appends nothing twice and an interrupted import resumes. A learner row
// gets its random learner id, salt and salted commitment here, and its nonce keyed by the signer's
// own key; the name and ID number go beside the entry to the erasable identity table.
import { bytesToHex } from "./crypto/multibase.js";
import { learnerRegistration, signEntry } from "./entry.js";
import { openKeyFile } from "./keyfile.js";
const BATCH_ROWS = 100; // well under the request body limit with identities and signatures
const NONCE_QUERY = 1000; // what POST /web/imports/known-nonces takes at once

class RowRefused extends Error {
  constructor(row, message) {
    super(message);
    this.row = row;
  }
}

async function postJson(form, url, payload) {
  const answer = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": form.dataset.csrf },
    body: JSON.stringify(payload),
  });
  const json = await answer.json();
  return { ok: answer.ok, json, status: answer.status };
}

async function learnerNonce(nonceKey, idNumber) {
  const mac = await crypto.subtle.sign("HMAC", nonceKey, new TextEncoder().encode(idNumber));
  return `imp-l-${bytesToHex(new Uint8Array(mac)).slice(0, 40)}`;
}

function signed(form, key, nonce, body) {
  const { type, actor } = form.dataset;
  return signEntry(key.privateKey, key.publicKey, { type, actor, nonce, body });
}

async function knownNonces(form, nonces) {
  const known = new Set();
  for (let at = 0; at < nonces.length; at += NONCE_QUERY) {
    const { ok, json } = await postJson(form, "/web/imports/known-nonces", { nonces: nonces.slice(at, at + NONCE_QUERY) });
    if (!ok) throw new Error(json.detail || json.title);
    for (const nonce of json.known) known.add(nonce);
  }
  return known;
}

async function postBatch(form, key, chunk, result) {
  const entries = [];
  for (const item of chunk) {
    if (item.identity) {
      const { body, identity } = await learnerRegistration(item.identity.name, item.identity.id_number);
      item.learnerId = body.learner_id;
      entries.push({ entry: await signed(form, key, item.nonce, body), identity });
    } else {
      entries.push({ entry: await signed(form, key, item.nonce, item.body), identity: null });
    }
  }
  const { ok, json } = await postJson(form, "/web/batch", { entries });
  if (!ok) {
    const refused = Number.isInteger(json.item) ? chunk[json.item] : null;
    throw new RowRefused(refused ? refused.row : null, json.detail || json.title);
  }
  result.appended += chunk.length;
  result.lastIndex = json.receipts.at(-1).index;
  for (const item of chunk) if (item.learnerId) result.learners.push([item.row, item.learnerId]);
}

async function run(form, status, result) {
  const file = form.querySelector("input[type=file]").files[0];
  if (!file) throw new Error(form.dataset.needKey);
  const passphrase = form.querySelector("input[name=passphrase]")?.value ?? "";
  const key = await openKeyFile(await file.text(), passphrase);
  const items = JSON.parse(form.dataset.items);
  for (const item of items) {
    if (item.identity) item.nonce = await learnerNonce(key.nonceKey, item.identity.id_number);
  }
  status.textContent = form.dataset.checking;
  const known = await knownNonces(form, items.map((item) => item.nonce));
  const pending = items.filter((item) => !known.has(item.nonce));
  result.already = items.length - pending.length;
  for (let at = 0; at < pending.length; at += BATCH_ROWS) {
    status.textContent = `${form.dataset.sending} ${at}/${pending.length}`;
    await postBatch(form, key, pending.slice(at, at + BATCH_ROWS), result);
  }
}

function showLearners(form, learners) {
  const box = form.querySelector("#new-learners");
  if (!box || !learners.length) return;
  const body = box.querySelector("tbody");
  for (const [row, learnerId] of learners) {
    const tr = document.createElement("tr");
    tr.dataset.row = String(row);
    const cells = [String(row), learnerId];
    for (const [n, text] of cells.entries()) {
      const td = document.createElement("td");
      if (n === 1) {
        const link = document.createElement("a");
        link.href = `/learners/${learnerId}`;
        link.textContent = text;
        link.className = "code";
        td.append(link);
      } else td.textContent = text;
      tr.append(td);
    }
    body.append(tr);
  }
  box.hidden = false;
}

for (const form of document.querySelectorAll("form.bulk-import")) {
  const status = form.querySelector("[role=status]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    status.className = "";
    const result = { appended: 0, already: 0, lastIndex: null, learners: [] };
    const done = () => {
      status.dataset.appended = String(result.appended);
      status.dataset.already = String(result.already);
      showLearners(form, result.learners);
    };
    run(form, status, result).then(
      () => {
        done();
        status.className = "ok";
        status.textContent = `${form.dataset.done} ${result.appended}. ${form.dataset.already} ${result.already}.`;
        if (result.lastIndex !== null) {
          status.dataset.index = String(result.lastIndex);
          const link = document.createElement("a");
          link.href = `/log/entries/${result.lastIndex}`;
          link.textContent = ` ${form.dataset.viewEntry}`;
          status.append(link);
        }
      },
      (error) => {
        done();
        status.className = "error";
        const where = error instanceof RowRefused && error.row !== null ? `${form.dataset.refused} ${error.row}: ` : "";
        const kept = result.appended ? ` ${form.dataset.kept} ${result.appended}.` : "";
        if (error instanceof RowRefused && error.row !== null) status.dataset.row = String(error.row);
        status.textContent = `${where}${error.message}${kept}`;
        button.disabled = false;
      },
    );
  });
}
