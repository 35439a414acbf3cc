// The keys page: make a key in this browser and enroll it. The enrollment itself is an ordinary
// signed write (sign.js), signed with the key file; this script makes the key, puts its public
// half into that form (so the page says what will be signed), and marks the kept key enrolled
// when the entry is in the log.
import { makeKey, markEnrolled, storedKey } from "./browser-keys.js";

const form = document.getElementById("enroll-key");
const status = document.getElementById("browser-key-status");
const field = document.getElementById("enroll-public-key");
const submit = form.querySelector("button[type=submit]");
const actor = form.dataset.actor;

function show(record) {
  if (!record) {
    status.textContent = status.dataset.none;
    status.dataset.state = "none";
    return;
  }
  const text = record.enrolledIndex === null ? status.dataset.pending : status.dataset.enrolled;
  status.textContent = `${text} ${record.keyId}`;
  status.dataset.state = record.enrolledIndex === null ? "pending" : "enrolled";
  status.dataset.keyId = record.keyId;
}

async function offer(record) {
  show(record);
  if (record && record.enrolledIndex === null) {
    field.value = record.publicKey;
    submit.disabled = false;
  } else {
    field.value = "";
    submit.disabled = true;
  }
  form.dispatchEvent(new Event("input"));
}

document.getElementById("make-key").addEventListener("click", async () => {
  try {
    await offer(await makeKey(actor));
  } catch (error) {
    status.textContent = `${status.dataset.failed} ${error.message}`;
    status.dataset.state = "failed";
  }
});

form.addEventListener("signed", async (event) => {
  const record = await markEnrolled(actor, field.value, event.detail.index);
  show(record);
  submit.disabled = true;
});

storedKey(actor).then(offer, () => show(null));
