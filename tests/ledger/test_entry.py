"""Entries and their signatures: RFC 8032 vectors pin the primitive; tampering is always caught."""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from creditbank.errors import EncodingError, EntryFormatError, SignatureError
from creditbank.ledger.canonical import canonical_bytes
from creditbank.ledger.entry import (
    ENTRY_DOMAIN,
    Entry,
    Leaf,
    SignedEntry,
    format_time,
    key_id_of,
    sign_entry,
)

# RFC 8032 section 7.1, TEST 1 to 3: secret key, public key, message, signature.
RFC8032_VECTORS = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]


@pytest.mark.parametrize(("secret", "public", "message", "signature"), RFC8032_VECTORS)
def test_rfc8032_vectors(secret: str, public: str, message: str, signature: str) -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))
    assert key.public_key().public_bytes_raw().hex() == public
    assert key.sign(bytes.fromhex(message)).hex() == signature
    verifier = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public))
    verifier.verify(bytes.fromhex(signature), bytes.fromhex(message))
    with pytest.raises(InvalidSignature):
        verifier.verify(bytes.fromhex(signature), bytes.fromhex(message) + b"\0")


@pytest.fixture
def entry(now: datetime) -> Entry:
    return Entry.create(
        type="certificate.issued",
        actor="provider-1",
        nonce="nonce-0001",
        body={"learner": "L-1", "qualification": {"code": "Q1", "level": 4}},
        claimed_at=now,
    )


@pytest.fixture
def signed(entry: Entry, actor_key: Ed25519PrivateKey) -> SignedEntry:
    return sign_entry(entry, actor_key)


def test_entry_bytes_are_canonical_and_domain_separated(entry: Entry) -> None:
    assert entry.canonical == canonical_bytes(entry.to_json())
    assert entry.signed_message == ENTRY_DOMAIN + entry.canonical
    assert entry.claimed_at == "2026-11-24T09:30:00.000000Z"


def test_sign_verify_round_trip(signed: SignedEntry, actor_key: Ed25519PrivateKey) -> None:
    signed.verify()
    again = SignedEntry.from_json(signed.to_json())
    again.verify()
    assert again.entry.canonical == signed.entry.canonical
    assert again.key_id == key_id_of(signed.public_key) == signed.key_id
    raw = base64.b64decode(signed.signature)
    actor_key.public_key().verify(raw, ENTRY_DOMAIN + signed.entry.canonical)


def tampered(signed: SignedEntry, change: Any) -> SignedEntry:
    obj = copy.deepcopy(signed.to_json())
    change(obj)
    return SignedEntry.from_json(obj)


def _flip_sig(obj: dict[str, Any]) -> None:
    raw = bytearray(base64.b64decode(obj["signature"]["sig"]))
    raw[10] ^= 1
    obj["signature"]["sig"] = base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda o: o["entry"]["body"].update(learner="L-2"), id="body"),
        pytest.param(
            lambda o: o["entry"]["body"]["qualification"].update(level=5), id="nested body"
        ),
        pytest.param(lambda o: o["entry"].update(nonce="nonce-0002"), id="nonce"),
        pytest.param(lambda o: o["entry"].update(actor="provider-2"), id="actor"),
        pytest.param(lambda o: o["entry"].update(type="certificate.revoked"), id="type"),
        pytest.param(
            lambda o: o["entry"].update(claimed_at="2026-11-24T09:30:01.000000Z"), id="time"
        ),
        pytest.param(_flip_sig, id="signature"),
        pytest.param(
            lambda o: o["signature"].update(
                public_key=base64.b64encode(
                    Ed25519PrivateKey.generate().public_key().public_bytes_raw()
                ).decode()
            ),
            id="public key",
        ),
    ],
)
def test_tampering_is_rejected(signed: SignedEntry, change: Any) -> None:
    forged = tampered(signed, change)
    with pytest.raises(SignatureError):
        forged.verify()


def test_signature_does_not_transfer_to_another_message_type(
    entry: Entry, actor_key: Ed25519PrivateKey
) -> None:
    """A signature over the bare canonical bytes (no domain prefix) is not an entry signature."""
    bare = base64.b64encode(actor_key.sign(entry.canonical)).decode()
    forged = SignedEntry.from_json(
        {
            "entry": entry.to_json(),
            "signature": {
                "alg": "Ed25519",
                "public_key": base64.b64encode(actor_key.public_key().public_bytes_raw()).decode(),
                "sig": bare,
            },
        }
    )
    with pytest.raises(SignatureError):
        forged.verify()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda o: o["entry"].update(extra=1), "unknown extra"),
        (lambda o: o["entry"].pop("nonce"), "missing nonce"),
        (lambda o: o["entry"].pop("body"), "missing body"),
        (lambda o: o.update(comment="hi"), "unknown comment"),
        (lambda o: o.pop("signature"), "missing signature"),
        (lambda o: o["signature"].update(kid="x"), "unknown kid"),
        (lambda o: o["signature"].pop("alg"), "missing alg"),
        (lambda o: o["signature"].update(alg="RS256"), "alg"),
        (lambda o: o["signature"].update(sig="not base64!"), "base64"),
        (lambda o: o["signature"].update(sig=base64.b64encode(b"x" * 63).decode()), "64-byte"),
        (lambda o: o["signature"].update(public_key="AAAA"), "32-byte"),
        (lambda o: o["signature"].update(public_key=7), "base64"),
        (lambda o: o["entry"].update(type="Certificate Issued"), "entry.type"),
        (lambda o: o["entry"].update(actor=""), "entry.actor"),
        (lambda o: o["entry"].update(nonce="short"), "entry.nonce"),
        (lambda o: o["entry"].update(claimed_at="2026-11-24 09:30"), "claimed_at"),
        (lambda o: o["entry"].update(claimed_at="2026-02-30T00:00:00Z"), "real date"),
        (lambda o: o["entry"].update(body=[1]), "body"),
    ],
)
def test_malformed_entries_are_rejected(signed: SignedEntry, change: Any, message: str) -> None:
    with pytest.raises(EntryFormatError, match=message):
        tampered(signed, change)


def test_entry_from_json_must_be_an_object() -> None:
    with pytest.raises(EntryFormatError):
        Entry.from_json(["not", "an", "object"])


def test_floats_cannot_enter_an_entry(now: datetime) -> None:
    with pytest.raises(EncodingError):
        Entry.create(
            type="credit.earned",
            actor="p",
            nonce="nonce-0001",
            body={"credits": 1.5},
            claimed_at=now,
        )


def test_times_are_spelled_one_way(now: datetime) -> None:
    assert format_time(now.astimezone(timezone(timedelta(hours=9)))) == format_time(now)
    with pytest.raises(ValueError):
        format_time(datetime(2026, 1, 1))  # naive


# --- leaves ------------------------------------------------------------------------------------


def test_leaf_bytes_round_trip(signed: SignedEntry, now: datetime) -> None:
    leaf = Leaf.wrap(signed, now + timedelta(seconds=1))
    assert leaf.data == canonical_bytes(leaf.to_json())
    parsed = Leaf.from_bytes(leaf.data)
    assert parsed.data == leaf.data
    assert parsed.integrated_at == "2026-11-24T09:30:01.000000Z"
    assert parsed.entry.canonical == signed.entry.canonical
    parsed.signed.verify()


def test_leaf_from_bytes_refuses_non_canonical_bytes(signed: SignedEntry, now: datetime) -> None:
    leaf = Leaf.wrap(signed, now)
    obj = json.loads(leaf.data)
    reordered = dict(reversed(list(obj.items())))
    for variant in (
        json.dumps(obj).encode(),  # whitespace
        json.dumps(reordered, separators=(",", ":")).encode(),  # members out of order
        leaf.data.replace(b'"actor"', b'"\\u0061ctor"'),  # a needless escape
        leaf.data.replace(b'"integrated_at"', b'"integrated_at" '),
        leaf.data + b"\n",
    ):
        assert variant != leaf.data
        with pytest.raises((EntryFormatError, EncodingError)):
            Leaf.from_bytes(variant)


def test_leaf_from_bytes_refuses_wrong_shapes(signed: SignedEntry, now: datetime) -> None:
    good = Leaf.wrap(signed, now).to_json()
    for broken in (
        {**good, "extra": 1},
        {k: v for k, v in good.items() if k != "integrated_at"},
        {**good, "integrated_at": "yesterday"},
    ):
        with pytest.raises(EntryFormatError):
            Leaf.from_bytes(canonical_bytes(broken))


def test_leaf_integration_time_is_utc(signed: SignedEntry) -> None:
    leaf = Leaf.wrap(signed, datetime(2026, 1, 1, 12, tzinfo=UTC))
    assert leaf.integrated_at == "2026-01-01T12:00:00.000000Z"


_JSON_KEYS = st.sampled_from(["entry", "integrated_at", "signature", "chain", "a", "é", "😀"])
_JSON_TEXT = st.text(max_size=12) | st.sampled_from(
    [',"integrated_at":"', '"entry":', '},"signature":{', "\\", '"']
)
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | _JSON_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_JSON_KEYS, inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    body=st.dictionaries(_JSON_KEYS | st.text(max_size=6), _JSON_VALUES, max_size=4),
    chained=st.booleans(),
    seq=st.integers(1, 10**6),
    prev=st.binary(min_size=32, max_size=32),
)
def test_audited_leaf_decoding_equals_the_checked_parse(
    body: dict[str, Any], chained: bool, seq: int, prev: bytes
) -> None:
    """The replays after an audit decode leaves without re-encoding them; for every canonical
    leaf (bodies holding the very markers the slicing looks for) that gives what ``from_bytes``
    gives, and a signature that still verifies over the sliced canonical entry."""
    from creditbank.ledger.entry import LearnerLink

    key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    signed = sign_entry(
        Entry.create(
            type="credit.earned",
            actor="reg-1",
            nonce="nonce-0001",
            body=body,
            claimed_at=datetime(2026, 1, 1, tzinfo=UTC),
        ),
        key,
    )
    leaf = Leaf.wrap_at(signed, "2026-01-01T00:00:00.000000Z")
    if chained:
        leaf = leaf.with_chain(LearnerLink("learner-1", seq, None if seq == 1 else prev))
    checked = Leaf.from_bytes(leaf.data)
    fast = Leaf.from_audited_bytes(leaf.data)
    assert fast.entry.canonical == checked.entry.canonical
    assert fast.to_json() == checked.to_json()
    assert fast.chain == checked.chain
    assert fast.signed.key_id == checked.signed.key_id
    fast.signed.verify()


@pytest.mark.parametrize("data", [b"not json", b"[]", b'{"entry":{}}', b"\xff"])
def test_audited_decoding_refuses_bytes_that_are_no_longer_a_leaf(data: bytes) -> None:
    """Bytes changed behind the audit's back between its check and a replay are refused as a
    format error (the replay names the entry), never a crash with a traceback."""
    with pytest.raises(EntryFormatError, match="changed since they were audited"):
        Leaf.from_audited_bytes(data)
