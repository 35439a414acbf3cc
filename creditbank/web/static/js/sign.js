// Signed writes from the pages: a form of class "signed-write" describes one ledger entry (its
// type, the signer, a fixed body and fields the person fills in). The page shows in words what
// will be signed; on submit the key is taken — the enrolled key kept in this browser
// (browser-keys.js) when the person chose it, else the key file, opened here (keyfile.js) — the
// entry is signed with WebCrypto Ed25519 over "creditbank-entry/v1\n" || RFC 8785(entry) (the
// project's jcs.js), and only the signed entry is sent. The private key never leaves the browser.
import { storedKey } from "./browser-keys.js";
import { base64Decode } from "./crypto/multibase.js";
import { learnerRegistration, randomHex, signEntry } from "./entry.js";
import { openKeyFile } from "./keyfile.js";

function fieldValues(form) {
  const values = {};
  for (const input of form.querySelectorAll("[data-body-field]")) {
    const name = input.dataset.bodyField;
    let value = input.value.trim();
    if (input.dataset.kind === "int") value = value === "" ? null : Number(value);
    if (value !== "" && value !== null) values[name] = value;
  }
  return values;
}

function describe(form) {
  const preview = form.querySelector(".preview");
  if (!preview || !preview.dataset.template) return;
  const values = fieldValues(form);
  preview.textContent = preview.dataset.template.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "…");
}

// A learner registration (entry.js): the name and ID number go beside the entry to the erasable
// identity table, never into the signed entry.
async function registration(form) {
  const name = form.querySelector("[data-identity=name]").value.trim();
  const idNumber = form.querySelector("[data-identity=id_number]").value.trim();
  const { body, identity } = await learnerRegistration(name, idNumber);
  return { body, extra: { identity } };
}

async function post(form, privateKey, publicKey, body, extra = {}) {
  const { type, actor } = form.dataset;
  const signed = await signEntry(privateKey, publicKey, { type, actor, nonce: `n-${randomHex(12)}`, body });
  const payload = { ...signed, ...extra };
  const answer = await fetch("/web/entries", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": form.dataset.csrf },
    body: JSON.stringify(payload),
  });
  const receipt = await answer.json();
  if (!answer.ok) throw new Error(receipt.detail || receipt.title || `HTTP ${answer.status}`);
  return receipt;
}

// The signing key: the kept browser key when chosen (it must be enrolled), else the key file.
async function signingKey(form) {
  if (form.querySelector("input[name=key-source]:checked")?.value === "browser") {
    const record = await storedKey(form.dataset.actor);
    if (!record || record.enrolledIndex === null) throw new Error(form.dataset.needKey);
    return { privateKey: record.privateKey, publicKey: base64Decode(record.publicKey) };
  }
  const file = form.querySelector("input[type=file]").files[0];
  if (!file) throw new Error(form.dataset.needKey);
  const passphrase = form.querySelector("input[name=passphrase]")?.value ?? "";
  return openKeyFile(await file.text(), passphrase);
}

// Offer the enrolled key kept in this browser for the form's actor, chosen by default.
async function offerBrowserKey(form) {
  const choice = form.querySelector(".browser-key");
  if (!choice) return;
  const record = await storedKey(form.dataset.actor).catch(() => null);
  if (!record || record.enrolledIndex === null) return;
  choice.querySelector("[data-key-id]").textContent = record.keyId;
  choice.querySelector("input[value=browser]").checked = true;
  choice.hidden = false;
}

// One entry (data-body plus the filled-in fields), or one per element of data-bodies, in order.
async function submit(form, status) {
  const { privateKey, publicKey } = await signingKey(form);
  if (form.dataset.type === "learner.registered") {
    const { body, extra } = await registration(form);
    status.textContent = form.dataset.sending;
    const receipt = await post(form, privateKey, publicKey, body, extra);
    receipt.learner_id = body.learner_id;
    return receipt;
  }
  const bodies = form.dataset.bodies
    ? JSON.parse(form.dataset.bodies)
    : [{ ...JSON.parse(form.dataset.body || "{}"), ...fieldValues(form) }];
  let receipt;
  for (const [number, body] of bodies.entries()) {
    status.textContent = `${form.dataset.sending} ${number + 1}/${bodies.length}`;
    receipt = await post(form, privateKey, publicKey, body);
  }
  return receipt;
}

for (const form of document.querySelectorAll("form.signed-write")) {
  const status = form.querySelector("[role=status]");
  form.addEventListener("input", () => describe(form));
  describe(form);
  offerBrowserKey(form);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    status.className = "";
    status.textContent = "";
    submit(form, status).then(
      (receipt) => {
        status.className = "ok";
        status.dataset.index = String(receipt.index);
        if (receipt.learner_id) status.dataset.learnerId = receipt.learner_id;
        status.textContent = `${form.dataset.done} #${receipt.index}`;
        if (receipt.learner_id) {
          const learner = document.createElement("a");
          learner.href = `/learners/${receipt.learner_id}`;
          learner.textContent = ` ${receipt.learner_id}`;
          status.append(learner);
        }
        const link = document.createElement("a");
        link.href = `/log/entries/${receipt.index}`;
        link.textContent = ` ${form.dataset.viewEntry}`;
        status.append(link);
        form.dispatchEvent(new CustomEvent("signed", { detail: receipt }));
      },
      (error) => {
        status.className = "error";
        status.textContent = error.message;
        button.disabled = false;
      },
    );
  });
}
