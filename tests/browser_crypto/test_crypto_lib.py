"""The browser crypto library in real Chromium: W3C eddsa-jcs-2022 vectors step by step, RFC 9162
proofs from the Python ledger and the transparency-dev golden vectors, C2SP notes signed by the
Python side, Bitstring Status Lists gzipped by Python, multibase against Python's base64.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from creditbank.errors import CreditbankError
from creditbank.ledger.canonical import canonical_bytes
from creditbank.ledger.checkpoint import Checkpoint, NoteSigner
from creditbank.ledger.learner_index import LearnerIndex
from creditbank.ledger.merkle import MemoryTree
from tests.browser_crypto.conftest import module_call
from tests.ledger.test_checkpoint import SPEC_NOTE, SPEC_VKEY
from tests.ledger.test_merkle import CONSISTENCY_PROOFS, INCLUSION_PROOFS, LEAVES, ROOTS

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "eddsa-jcs-2022"
LIB = "/static/js/crypto/"


def vector(name: str) -> str:
    return (VECTORS / name).read_text("utf-8")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- multibase ---------------------------------------------------------------------------------


def test_base64_and_base64url_agree_with_python(harness: Any) -> None:
    samples = [b"", b"\x00", b"\xff\xfe", secrets.token_bytes(31), secrets.token_bytes(64)]
    out = harness.evaluate(
        module_call(
            LIB + "multibase.js",
            """return arg.map((hex) => { const b = m.hexToBytes(hex);
               return [m.base64Encode(b), m.base64urlEncode(b),
                       m.bytesToHex(m.base64Decode(m.base64Encode(b))),
                       m.bytesToHex(m.base64urlDecode(m.base64urlEncode(b)))]; });""",
        ),
        [s.hex() for s in samples],
    )
    for sample, (std, url, back, back_url) in zip(samples, out, strict=True):
        assert std == b64(sample)
        assert url == base64.urlsafe_b64encode(sample).decode().rstrip("=")
        assert back == back_url == sample.hex()


def test_base58btc_known_answer_and_strictness(harness: Any) -> None:
    out = harness.evaluate(
        module_call(
            LIB + "multibase.js",
            """const sig = m.multibaseDecode(arg.b58);
               const refuse = (f) => { try { f(); return 'accepted'; } catch (e) { return e.name; } };
               return [m.bytesToHex(sig), m.multibaseEncode(sig), m.base58btcEncode(new Uint8Array([0, 0, 1])),
                       refuse(() => m.base58btcDecode('0OIl')), refuse(() => m.base64Decode('abc')),
                       refuse(() => m.multibaseDecode('xabc'))];""",
        ),
        {"b58": vector("sigBTC58JCS.txt").strip()},
    )
    assert out[0] == vector("sigHexJCS.txt").strip()
    assert out[1] == vector("sigBTC58JCS.txt").strip()
    assert out[2] == "112"
    assert out[3:] == ["EncodingError"] * 3


# --- Ed25519, did:key, eddsa-jcs-2022 ----------------------------------------------------------


def test_w3c_vectors_step_by_step(harness: Any) -> None:
    pair = json.loads(vector("keyPair.json"))
    out = harness.evaluate(
        module_call(
            LIB + "eddsa-jcs-2022.js",
            """const jcs = await import('/static/js/crypto/jcs.js');
               const ed = await import('/static/js/crypto/ed25519.js');
               const mb = await import('/static/js/crypto/multibase.js');
               const signed = JSON.parse(arg.signed);
               const t = await m.transform(signed);
               const docHash = await ed.sha256(jcs.canonicalBytes(t.unsecured));
               const proofHash = await ed.sha256(jcs.canonicalBytes(t.proofConfig));
               const key = await ed.importPrivateSeed(ed.privateSeedFromMultibase(arg.priv));
               const sig = await ed.sign(key, mb.concatBytes(proofHash, docHash));
               const resolved = ed.resolveDidKey(signed.proof.verificationMethod);
               const resigned = await m.addProof(t.unsecured, key, {
                 created: signed.proof.created, verificationMethod: signed.proof.verificationMethod,
                 proofPurpose: 'assertionMethod' });
               const verified = await m.verifyProof(signed);
               return { canonDoc: jcs.canonicalize(t.unsecured), proofCanon: jcs.canonicalize(t.proofConfig),
                        docHash: mb.bytesToHex(docHash), proofHash: mb.bytesToHex(proofHash),
                        sigHex: mb.bytesToHex(sig), publicKey: mb.bytesToHex(resolved.publicKey),
                        publicFromPair: mb.bytesToHex(ed.publicKeyFromMultibase(arg.pub)),
                        resigned: JSON.stringify(resigned), verifiedBy: verified.verificationMethod };""",
        ),
        {
            "signed": vector("signedJCS.json"),
            "priv": pair["privateKeyMultibase"],
            "pub": pair["publicKeyMultibase"],
        },
    )
    assert out["canonDoc"] == vector("canonDocJCS.txt").strip()
    assert out["proofCanon"] == vector("proofCanonJCS.txt").strip()
    assert out["docHash"] == vector("docHashJCS.txt").strip()
    assert out["proofHash"] == vector("proofHashJCS.txt").strip()
    assert out["proofHash"] + out["docHash"] == vector("combinedHashJCS.txt").strip()
    assert out["sigHex"] == vector("sigHexJCS.txt").strip()
    assert out["publicKey"] == out["publicFromPair"]
    assert json.loads(out["resigned"]) == json.loads(vector("signedJCS.json"))
    assert out["verifiedBy"] == json.loads(vector("signedJCS.json"))["proof"]["verificationMethod"]


TAMPER = {
    "subject": ("credentialSubject.alumniOf", "The School of Counterfeits", "SIGNATURE"),
    "validFrom": ("validFrom", "2020-01-01T00:00:00Z", "SIGNATURE"),
    "created": ("proof.created", "2024-02-24T23:36:38Z", "SIGNATURE"),
    "proofValue": (
        "proof.proofValue",
        "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aY",
        "SIGNATURE",
    ),
    "short proofValue": ("proof.proofValue", "z2HnFSSPPB", "PROOF_VALUE"),
    "other key": (
        "proof.verificationMethod",
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "SIGNATURE",
    ),
    "mismatched fragment": (
        "proof.verificationMethod",
        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "VERIFICATION_METHOD",
    ),
    "did:web method": (
        "proof.verificationMethod",
        "did:web:example.com#key-1",
        "VERIFICATION_METHOD",
    ),
    "purpose": ("proof.proofPurpose", "authentication", "PROOF_PURPOSE"),
    "cryptosuite": ("proof.cryptosuite", "eddsa-rdfc-2022", "PROOF_TYPE"),
    "context": ("@context", ["https://www.w3.org/ns/credentials/v2"], "PROOF_CONTEXT"),
}


@pytest.mark.parametrize("case", list(TAMPER))
def test_tampered_w3c_credential_is_refused_with_the_reason(harness: Any, case: str) -> None:
    path, value, code = TAMPER[case]
    doc = json.loads(vector("signedJCS.json"))
    *parents, last = path.split(".")
    target = doc
    for part in parents:
        target = target[part]
    target[last] = value
    result = harness.evaluate(
        module_call(
            LIB + "eddsa-jcs-2022.js",
            "try { await m.verifyProof(arg); return 'verified'; } catch (e) { return e.code; }",
        ),
        doc,
    )
    assert result == code


def test_ed25519_verify_agrees_with_cryptography(harness: Any) -> None:
    key = Ed25519PrivateKey.generate()
    message = secrets.token_bytes(100)
    signature = key.sign(message)
    public = key.public_key().public_bytes_raw()
    out = harness.evaluate(
        module_call(
            LIB + "ed25519.js",
            """const mb = await import('/static/js/crypto/multibase.js');
               const [pub, sig, msg] = arg.map(mb.hexToBytes);
               const bad = sig.slice(); bad[0] ^= 1;
               const msg2 = msg.slice(); msg2[5] ^= 1;
               return [await m.verify(pub, sig, msg), await m.verify(pub, bad, msg),
                       await m.verify(pub, sig, msg2), await m.verify(pub, sig.slice(1), msg),
                       mb.bytesToHex(await m.sha256(msg))];""",
        ),
        [public.hex(), signature.hex(), message.hex()],
    )
    assert out == [True, False, False, False, hashlib.sha256(message).hexdigest()]


# --- RFC 9162 ----------------------------------------------------------------------------------

_MERKLE = """const mb = await import('/static/js/crypto/multibase.js');
const h = (x) => mb.hexToBytes(x);
const verdict = async (f) => { try { await f(); return 'ok'; } catch (e) { return e.name + ': ' + e.message; } };
const inc = [];
for (const [leafHex, index, size, proof, root] of arg.inclusion) {
  inc.push(await verdict(async () => m.verifyInclusion(await m.leafHash(h(leafHex)), index, size, proof.map(h), h(root))));
}
const con = [];
for (const [oldSize, newSize, oldRoot, newRoot, proof] of arg.consistency) {
  con.push(await verdict(() => m.verifyConsistency(oldSize, newSize, h(oldRoot), h(newRoot), proof.map(h))));
}
return [inc, con];"""


def _merkle(page: Any, inclusion: list[Any], consistency: list[Any]) -> list[list[str]]:
    return page.evaluate(  # type: ignore[no-any-return]
        module_call(LIB + "merkle.js", _MERKLE),
        {"inclusion": inclusion, "consistency": consistency},
    )


def test_golden_vectors(harness: Any) -> None:
    inclusion = [
        [LEAVES[leaf - 1].hex(), leaf - 1, size, [p.hex() for p in proof], ROOTS[size - 1].hex()]
        for leaf, size, proof in INCLUSION_PROOFS
    ]
    consistency = [
        [old, new, ROOTS[old - 1].hex(), ROOTS[new - 1].hex(), [p.hex() for p in proof]]
        for old, new, proof in CONSISTENCY_PROOFS
    ]
    inc, con = _merkle(harness, inclusion, consistency)
    assert inc == ["ok"] * len(inclusion)
    assert con == ["ok"] * len(consistency)


def test_every_proof_the_python_ledger_makes_verifies_and_corruptions_fail(harness: Any) -> None:
    leaves = [secrets.token_bytes(8) for _ in range(37)]
    tree = MemoryTree(leaves)
    inclusion, consistency, broken_inc, broken_con = [], [], [], []
    for size in (1, 2, 3, 7, 8, 9, 16, 31, 37):
        root = tree.root(size).hex()
        for index in range(size):
            proof = [p.hex() for p in tree.inclusion_proof(index, size)]
            inclusion.append([leaves[index].hex(), index, size, proof, root])
            if proof:
                bad = list(proof)
                bad[-1] = bytes(32).hex()
                broken_inc.append([leaves[index].hex(), index, size, bad, root])
            broken_inc.append([leaves[index].hex(), (index + 1) % (size + 1), size, proof, root])
        for old in range(1, size + 1):
            proof = [p.hex() for p in tree.consistency_proof(old, size)]
            consistency.append([old, size, tree.root(old).hex(), root, proof])
            if proof:
                broken_con.append([old, size, tree.root(old).hex(), root, proof[:-1]])
                broken_con.append([old, size, tree.root(old).hex(), bytes(32).hex(), proof])
    inc, con = _merkle(harness, inclusion + broken_inc, consistency + broken_con)
    assert inc[: len(inclusion)] == ["ok"] * len(inclusion)
    assert con[: len(consistency)] == ["ok"] * len(consistency)
    assert all(v.startswith("ProofError") for v in inc[len(inclusion) :])
    assert all(v.startswith("ProofError") for v in con[len(consistency) :])


# --- C2SP signed notes and checkpoints ---------------------------------------------------------

_OPEN = """const verdict = async (note, key, origin) => {
  try { const c = await m.openCheckpoint(note, key, { origin });
        return ['ok', c.origin, c.size, btoa(String.fromCharCode(...c.rootHash))]; }
  catch (e) { return [e.name, e.message]; } };
const out = [];
for (const [note, key, origin] of arg) out.push(await verdict(note, key, origin));
return out;"""


def test_checkpoints_signed_by_python_verify_in_the_browser(harness: Any) -> None:
    signer = NoteSigner("example.org/log", Ed25519PrivateKey.generate())
    other = NoteSigner("example.org/log", Ed25519PrivateKey.generate())
    root = secrets.token_bytes(32)
    note = Checkpoint("example.org/log", 42, root).sign([signer])
    vkey = signer.verifier.vkey
    cosigned = Checkpoint("example.org/log", 42, root).sign([other, signer])
    tampered = note.replace("\n42\n", "\n43\n")
    out = harness.evaluate(
        module_call(LIB + "checkpoint.js", _OPEN),
        [
            [note, vkey, "example.org/log"],
            [cosigned, vkey, None],
            [tampered, vkey, None],
            [note, other.verifier.vkey, None],
            [note, vkey, "another.org/log"],
            [note, vkey[:-2] + "AA", None],
            [note.replace("\n\n", "\n"), vkey, None],
        ],
    )
    assert out[0] == ["ok", "example.org/log", 42, b64(root)]
    assert out[1] == ["ok", "example.org/log", 42, b64(root)]
    assert out[2] == ["CheckpointError", "note signature by example.org/log does not verify"]
    assert out[3] == ["CheckpointError", "the note carries no signature from a trusted key"]
    assert out[4][0] == "CheckpointError" and "another.org/log" in out[4][1]
    assert out[5][0] == "CheckpointError"
    assert out[6][0] == "CheckpointError"


def test_the_c2sp_specification_note(harness: Any) -> None:
    out = harness.evaluate(
        module_call(
            LIB + "checkpoint.js",
            "const v = await m.parseVerifierKey(arg[1]); const r = await m.openNote(arg[0], [v]);"
            " return [r.text, r.verified];",
        ),
        [SPEC_NOTE, SPEC_VKEY],
    )
    assert out == ["This is an example message.\n", ["example.com/foo"]]


# --- Bitstring Status List ---------------------------------------------------------------------


def _encoded(bits: int, set_bits: list[int]) -> str:
    data = bytearray(bits // 8)
    for i in set_bits:
        data[i // 8] |= 0x80 >> (i % 8)
    return "u" + base64.urlsafe_b64encode(gzip.compress(bytes(data))).decode().rstrip("=")


def test_status_list_bits_left_most_first(harness: Any) -> None:
    encoded = _encoded(131072, [0, 9, 94567, 131071])
    out = harness.evaluate(
        module_call(
            LIB + "statuslist.js",
            """const out = [];
               for (const i of [0, 1, 7, 8, 9, 94566, 94567, 131071]) out.push(await m.statusAt(arg[0], i));
               const err = async (f) => { try { await f(); return 'ok'; } catch (e) { return e.code; } };
               out.push(await err(() => m.statusAt(arg[0], 131072)));
               out.push(await err(() => m.statusAt(arg[1], 0)));
               out.push(await err(() => m.statusAt('uAAAA', 0)));
               out.push(await err(() => m.statusAt('z123', 0)));
               return out;""",
        ),
        [encoded, _encoded(8 * 1024, [])],
    )
    assert out == [
        1, 0, 0, 0, 1, 0, 1, 1,
        "STATUS_LIST_LENGTH", "STATUS_LIST_LENGTH", "STATUS_LIST_ENCODING", "STATUS_LIST_ENCODING",
    ]  # fmt: skip


# --- transcripts -------------------------------------------------------------------------------


def _transcript(bad_signature_at: int | None = None) -> tuple[dict[str, Any], NoteSigner]:
    """A small log built here (leaves, tree, signed checkpoint) and a transcript of all of it."""
    actor = Ed25519PrivateKey.generate()
    leaves = []
    for i in range(5):
        entry = {
            "type": "credit.earned",
            "actor": "registrar-1",
            "claimed_at": "2026-01-15T08:00:00Z",
            "nonce": f"nonce-{i:04d}",
            "body": {"learner_id": "L-1", "credits": "2.5", "course": f"课程 {i}"},
        }
        message = b"creditbank-entry/v1\n" + canonical_bytes(entry)
        if i == bad_signature_at:
            message += b"x"
        leaves.append(
            {
                "entry": entry,
                "integrated_at": "2026-01-15T08:00:01.000000Z",
                "signature": {
                    "alg": "Ed25519",
                    "public_key": b64(actor.public_key().public_bytes_raw()),
                    "sig": b64(actor.sign(message)),
                },
            }
        )
    data = [canonical_bytes(leaf) for leaf in leaves]
    tree = MemoryTree(data)
    signer = NoteSigner("example.org/log", Ed25519PrivateKey.generate())
    transcript = {
        "format": "creditbank-transcript/v1",
        "learner_id": "L-1",
        "log": {"origin": "example.org/log", "verifier_key": signer.verifier.vkey},
        "checkpoint": Checkpoint("example.org/log", 5, tree.root()).sign([signer]),
        "tree_size": 5,
        "entries": [
            {
                "index": i,
                "leaf": leaves[i],
                "leaf_hash": b64(hashlib.sha256(b"\x00" + data[i]).digest()),
                "inclusion_proof": [b64(p) for p in tree.inclusion_proof(i)],
            }
            for i in range(5)
        ],
    }
    return transcript, signer


_VERIFY_TRANSCRIPT = """const out = [];
for (const [transcript, key] of arg) {
  try { const r = await m.verifyTranscript(transcript, key ?? undefined);
        out.push(['ok', r.entries.length, r.checkpoint.size]); }
  catch (e) { out.push([e.code, e.index]); }
}
return out;"""


def test_transcripts(harness: Any) -> None:
    good, signer = _transcript()
    bad_sig, _ = _transcript(bad_signature_at=3)
    duplicate = json.loads(json.dumps(good))
    duplicate["entries"].append(duplicate["entries"][0])
    wrong_hash = json.loads(json.dumps(good))
    wrong_hash["entries"][2]["leaf_hash"] = wrong_hash["entries"][1]["leaf_hash"]
    other = NoteSigner("example.org/log", Ed25519PrivateKey.generate()).verifier.vkey
    out = harness.evaluate(
        module_call(LIB + "transcript.js", _VERIFY_TRANSCRIPT),
        [
            [good, None],
            [good, signer.verifier.vkey],
            [bad_sig, None],
            [duplicate, None],
            [wrong_hash, None],
            [good, other],
            [{**good, "format": "creditbank-transcript/v9"}, None],
            [{**good, "format": "creditbank-transcript/v2", "completeness": None}, None],
        ],
    )
    assert out == [
        ["ok", 5, 5],
        ["ok", 5, 5],
        ["ENTRY_SIGNATURE", 3],
        ["FORMAT", 0],
        ["LEAF_HASH", 2],
        ["CHECKPOINT", None],
        ["FORMAT", None],
        ["ok", 5, 5],
    ]


# --- transcript v2 completeness (issue 11 item 4) ---------------------------------------------


def test_map_proofs_agree_with_python(harness: Any) -> None:
    """Inclusion and both kinds of non-inclusion proofs of the learner index verify in the
    browser exactly when they verify in Python."""
    index = LearnerIndex()
    for i in range(40):
        index.record(f"L-{i}", 100 + i, hashlib.sha256(b"%d" % i).digest())
    view = index.snapshot()
    root = b64(view.root())
    cases = []
    for key in [*(f"L-{i}" for i in (0, 7, 39)), *(f"absent-{i}" for i in range(12))]:
        value, proof = view.prove(key)
        cases.append([key, value.to_json() if value else None, proof.to_json(), "ok"])
    terminals = {case[2]["terminal"] for case in cases}
    assert {"leaf", "empty", "other"} <= terminals, terminals
    present = cases[0]
    forged_value = {**present[1], "count": present[1]["count"] + 1}
    cases.append([present[0], forged_value, present[2], "bad"])
    cases.append(["L-1", present[1], present[2], "bad"])  # another learner's proof
    cases.append([present[0], None, present[2], "bad"])  # claims absence with a leaf proof
    out = harness.evaluate(
        module_call(
            LIB + "completeness.js",
            """const root = m_b64(arg.root);
               const out = [];
               for (const [key, raw, proof] of arg.cases) {
                 const value = raw && {count: raw.count, headIndex: raw.head_index,
                                       headLeafHash: m_b64(raw.head_leaf_hash)};
                 try { await m.verifyMapProof(root, key, value, proof); out.push('ok'); }
                 catch (e) { out.push(e.name === 'CompletenessError' ? 'bad' : e.message); }
               }
               return out;""".replace(
                "m_b64",
                "((t) => Uint8Array.from(atob(t), (c) => c.charCodeAt(0)))",
            ),
        ),
        {"root": root, "cases": [c[:3] for c in cases]},
    )
    assert out == [c[3] for c in cases]


@pytest.fixture(scope="module")
def v2_bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A real v2 transcript: L-1's certificate, credit, conversion, then the certificate revoked
    (which reverses the conversion), built by the bank over SQLite."""
    from sqlmodel import Session

    from creditbank.accounts.transcript import build_transcript
    from creditbank.ledger.database import make_engine
    from tests.accounts.conftest import CREDIT_MAPPING, WELD_MAPPING, make_world

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('v2') / 'bank.db'}")
    for world in make_world(engine):
        for m in (WELD_MAPPING, CREDIT_MAPPING):
            world.register_mapping(m)
        world.register_learner("L-1")
        world.register_learner("L-2")
        world.issue("C-1", "L-1")
        world.issue("C-9", "L-2")
        world.credit("CR-1", "L-1", "SSPU", "MA101", "4", 88)
        world.convert("X-1", "L-1")
        world.clock.advance(days=1)
        world.post(
            world.provider, "certificate.revoked", {"certificate_id": "C-1", "reason": "fraud"}
        )
        with Session(engine) as session:
            yield build_transcript(session, world.bank.log, "L-1")
    engine.dispose()


def _without(bundle: dict[str, Any], entry_type: str) -> dict[str, Any]:
    forged = json.loads(json.dumps(bundle))
    forged["entries"] = [e for e in forged["entries"] if e["leaf"]["entry"]["type"] != entry_type]
    return forged


def test_v2_completeness_in_the_browser(harness: Any, v2_bundle: dict[str, Any]) -> None:
    from creditbank.accounts.transcript import verify_transcript
    from creditbank.ledger.checkpoint import NoteVerifier

    bundle = v2_bundle
    key = NoteVerifier.from_vkey(bundle["log"]["verifier_key"])
    proven = verify_transcript(bundle, [key])
    chained = [i for i, e in enumerate(bundle["entries"]) if "chain" in e["leaf"]]
    reordered = json.loads(json.dumps(bundle))
    a, b = chained[1], chained[2]
    reordered["entries"][a], reordered["entries"][b] = (
        reordered["entries"][b],
        reordered["entries"][a],
    )
    no_completeness = {**bundle, "completeness": None}
    v1 = {**bundle, "format": "creditbank-transcript/v1"}
    forged_value = json.loads(json.dumps(bundle))
    forged_value["completeness"]["value"]["count"] -= 1
    cases = [
        bundle,
        _without(bundle, "conversion.reversed"),
        _without(bundle, "certificate.revoked"),
        reordered,
        forged_value,
        no_completeness,
        v1,
    ]
    out = harness.evaluate(
        module_call(
            LIB + "transcript.js",
            """const out = [];
               for (const t of arg) {
                 try { const r = await m.verifyTranscript(t); out.push(['ok', r.completeAsOf]); }
                 catch (e) { out.push([e.code, e.message]); }
               }
               return out;""",
        ),
        cases,
    )
    assert out[0] == ["ok", proven.complete_as_of]
    assert out[1][0] == out[2][0] == "COMPLETENESS"
    assert "missing" in out[1][1] and "missing" in out[2][1]
    assert out[3][0] == "COMPLETENESS" and "out of order" in out[3][1]
    assert out[4][0] == "COMPLETENESS" and "does not lead to the index root" in out[4][1]
    assert out[5] == ["ok", None] and out[6] == ["ok", None]  # not proven complete
    # The Python verifier refuses the same forgeries.
    for forged in cases[1:5]:
        with pytest.raises(CreditbankError):
            verify_transcript(forged, [key])
