"""C2SP signed notes and tlog checkpoints: the specification's example, trust rules, key rotation."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from creditbank.errors import CheckpointError, KeyFormatError, SignatureError, VerificationError
from creditbank.ledger.audit import audit_log
from creditbank.ledger.checkpoint import Checkpoint, NoteSigner, NoteVerifier, open_note, sign_note
from creditbank.ledger.log import Log
from creditbank.ledger.memory import MemoryLogStore
from creditbank.ledger.merkle import EMPTY_ROOT

from .conftest import ORIGIN, MakeEntries

# From C2SP signed-note: the example key and note (the dash is U+2014 EM DASH).
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n"
    "\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mF"
    "XmRKuwHjG1Yu72IneyaQM=\n"
)


@pytest.fixture
def spec_verifier() -> NoteVerifier:
    return NoteVerifier.from_vkey(SPEC_VKEY)


def test_the_specification_example_verifies(spec_verifier: NoteVerifier) -> None:
    text, verified = open_note(SPEC_NOTE, [spec_verifier])
    assert text == "This is an example message.\n"
    assert verified == [spec_verifier]
    assert spec_verifier.vkey == SPEC_VKEY
    assert spec_verifier.key_id.hex() == "530d903a"


def test_the_specification_example_with_its_text_changed_is_rejected(
    spec_verifier: NoteVerifier,
) -> None:
    with pytest.raises(SignatureError):
        open_note(SPEC_NOTE.replace("example message", "exemplary message"), [spec_verifier])


def test_unknown_keys_are_ignored(log_signer: NoteSigner) -> None:
    stranger = NoteSigner("stranger.example/log", Ed25519PrivateKey.generate())
    note = sign_note("hello\n", [stranger, log_signer])
    text, verified = open_note(note, [log_signer.verifier])
    assert text == "hello\n"
    assert verified == [log_signer.verifier]
    # ... and a line that is not even a valid signature, from an unknown key, changes nothing.
    junk = "\u2014 nobody.example " + base64.b64encode(b"\0\0\0\0" + b"x" * 64).decode() + "\n"
    assert open_note(note + junk, [log_signer.verifier])[1] == [log_signer.verifier]


def test_a_bad_signature_from_a_known_key_rejects_the_note(log_signer: NoteSigner) -> None:
    other = NoteSigner("other.example/log", Ed25519PrivateKey.generate())
    note = sign_note("hello\n", [log_signer, other])
    name, _, blob = note.splitlines()[2].partition(" ")[2].partition(" ")
    raw = bytearray(base64.b64decode(blob))
    raw[-1] ^= 1
    bad_line = f"\u2014 {name} {base64.b64encode(bytes(raw)).decode()}"
    broken = note.replace(note.splitlines()[2], bad_line)
    # Still one good signature from a trusted key, but a trusted key's bad signature poisons it.
    with pytest.raises(SignatureError):
        open_note(broken, [log_signer.verifier, other.verifier])


def test_a_note_without_a_trusted_signature_is_rejected(log_signer: NoteSigner) -> None:
    stranger = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())  # same name, other key id
    note = sign_note("hello\n", [stranger])
    with pytest.raises(CheckpointError, match="no signature from a trusted key"):
        open_note(note, [log_signer.verifier])
    with pytest.raises(CheckpointError):
        open_note(note, [])


@pytest.mark.parametrize(
    "note",
    [
        "hello\n",  # no signatures
        "hello\n\n",  # empty signature block
        "hello\n\n\u2014 a AAAA",  # no final newline
        "hello\n\n- a AAAAAAAAAAAAAAAAAAAAAAAA\n",  # ASCII dash
        "hello\n\n\u2014 a !!!!\n",  # not base64
        "hello\n\n\u2014 a AAAA\n",  # too short
        "he\x01llo\n\n\u2014 a AAAAAAAAAAAAAAAAAAAAAAAA\n",  # control character
    ],
)
def test_malformed_notes_are_rejected(note: str, log_signer: NoteSigner) -> None:
    with pytest.raises(VerificationError):
        open_note(note, [log_signer.verifier])


def test_too_many_signatures_are_rejected(log_signer: NoteSigner) -> None:
    signers = [NoteSigner(f"s{i}.example", Ed25519PrivateKey.generate()) for i in range(16)]
    note = sign_note("hello\n", [log_signer, *signers])
    with pytest.raises(CheckpointError, match="at most"):
        open_note(note, [log_signer.verifier])


@pytest.mark.parametrize(
    "vkey",
    [
        # the specification's key with another key id
        "example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        # ... or another name (the id covers the name)
        "example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/foo+530d903a",
        "example.com/foo+530d90+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U",
        "example.com/foo+530d903a+" + base64.b64encode(b"\x02" + b"k" * 32).decode(),
        "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        "example com+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    ],
)
def test_bad_verifier_keys_are_rejected(vkey: str) -> None:
    with pytest.raises(KeyFormatError):
        NoteVerifier.from_vkey(vkey)


def test_verifier_keys_round_trip_even_with_plus_in_base64() -> None:
    for _ in range(64):  # base64 of a random key holds a '+' often enough
        signer = NoteSigner("log.example/x", Ed25519PrivateKey.generate())
        vkey = signer.verifier.vkey
        assert NoteVerifier.from_vkey(vkey) == signer.verifier


# --- checkpoints -------------------------------------------------------------------------------


def test_checkpoint_text_round_trip(log_signer: NoteSigner) -> None:
    root = bytes(range(32))
    checkpoint = Checkpoint(ORIGIN, 1234, root, ("extension one",))
    text = checkpoint.to_text()
    assert text == f"{ORIGIN}\n1234\n{base64.b64encode(root).decode()}\nextension one\n"
    assert Checkpoint.from_text(text) == checkpoint
    note = checkpoint.sign([log_signer])
    assert Checkpoint.open(note, [log_signer.verifier], origin=ORIGIN) == checkpoint


def test_the_tlog_checkpoint_specification_example_parses() -> None:
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    checkpoint = Checkpoint.from_text(text)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert checkpoint.to_text() == text


def test_checkpoint_for_another_origin_is_rejected(log_signer: NoteSigner) -> None:
    note = Checkpoint("other.example/log", 1, EMPTY_ROOT).sign([log_signer])
    with pytest.raises(CheckpointError, match="not"):
        Checkpoint.open(note, [log_signer.verifier], origin=ORIGIN)


ROOT64 = base64.b64encode(EMPTY_ROOT).decode()


@pytest.mark.parametrize(
    "text",
    [
        f"{ORIGIN}\n5\n{ROOT64}",  # no final newline
        f"{ORIGIN}\n5\n",  # no root
        f"\n5\n{ROOT64}\n",  # empty origin
        f"{ORIGIN}\n05\n{ROOT64}\n",  # leading zero
        f"{ORIGIN}\n-5\n{ROOT64}\n",
        f"{ORIGIN}\n 5\n{ROOT64}\n",
        f"{ORIGIN}\nfive\n{ROOT64}\n",
        f"{ORIGIN}\n5\n{ROOT64[:-4]}\n",  # 30-byte root
        f"{ORIGIN}\n5\nnot base64!\n",
        f"{ORIGIN}\n5\n{ROOT64}\n\n",  # empty extension line
    ],
)
def test_malformed_checkpoints_are_rejected(text: str) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint.from_text(text)


# --- key rotation ------------------------------------------------------------------------------


def test_after_rotation_old_checkpoints_verify_with_the_old_key_on_record(
    log_signer: NoteSigner, make_entries: MakeEntries, now: datetime
) -> None:
    store = MemoryLogStore()
    old_log = Log(store, origin=ORIGIN, signer=log_signer)
    old_log.register_key(now=now)
    old_log.append(make_entries(5), now=now)
    old_notes = [cp.note for cp in store.checkpoints()]

    new_signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    new_log = Log(store, origin=ORIGIN, signer=new_signer)
    later = now + timedelta(days=1)
    new_log.register_key(now=later)
    new_log.append(make_entries(3), now=later)

    assert store.log_keys() == [log_signer.verifier.vkey, new_signer.verifier.vkey]
    verifiers = new_log.verifiers()
    for cp in store.checkpoints():
        Checkpoint.open(cp.note, verifiers, origin=ORIGIN)
    for note in old_notes:
        Checkpoint.open(note, [log_signer.verifier], origin=ORIGIN)
        with pytest.raises(CheckpointError):
            Checkpoint.open(note, [new_signer.verifier], origin=ORIGIN)
    # The rotation checkpoint covers the tree as it was, signed by the new key.
    rotation = [cp for cp in store.checkpoints() if cp.created_at == later and cp.tree_size == 5]
    assert len(rotation) == 1
    Checkpoint.open(rotation[0].note, [new_signer.verifier], origin=ORIGIN)
    latest = new_log.latest_checkpoint()
    assert latest.tree_size == 8
    Checkpoint.open(latest.note, [new_signer.verifier], origin=ORIGIN)
    report = audit_log(store, origin=ORIGIN)
    assert (report.tree_size, report.checkpoints_checked) == (8, 4)
