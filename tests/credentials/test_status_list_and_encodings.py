"""Bitstring Status List encoding, multibase and did:key/did:web: spec examples and properties."""

from __future__ import annotations

import gzip

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from creditbank.credentials.did import (
    did_key,
    did_key_verification_method,
    did_web,
    resolve_verification_method,
)
from creditbank.credentials.multibase import (
    b58decode,
    b58encode,
    multibase_b64url_decode,
    multibase_b64url_encode,
)
from creditbank.credentials.status_list import (
    MIN_LIST_BITS,
    decode_list,
    encode_list,
    read_status_bit,
    status_entry,
)
from creditbank.errors import CredentialFormatError, CredentialRevokedError, DidResolutionError

#: The example ``encodedList`` of the Bitstring Status List specification: 131,072 zero bits.
SPEC_EMPTY_LIST = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


def test_specification_example_decodes_to_16kb_of_zeros() -> None:
    bits = decode_list(SPEC_EMPTY_LIST)
    assert len(bits) == 16 * 1024 and not any(bits)


def test_index_zero_is_the_left_most_bit() -> None:
    bits = gzip.decompress(multibase_b64url_decode(encode_list([0, 9, MIN_LIST_BITS - 1])))
    assert bits[0] == 0b1000_0000 and bits[1] == 0b0100_0000 and bits[-1] == 0b0000_0001
    encoded = encode_list([0])
    assert encoded.startswith("u") and "=" not in encoded


@given(st.sets(st.integers(0, MIN_LIST_BITS - 1), max_size=40), st.integers(0, MIN_LIST_BITS - 1))
def test_a_bit_reads_back_set_exactly_when_it_was_set(indices: set[int], probe: int) -> None:
    url = "https://bank.example/v1/status-lists/1"
    listed = {
        "id": url,
        "credentialSubject": {
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_list(indices),
        },
    }
    assert read_status_bit(status_entry(url, probe), listed) is (probe in indices)


def test_lists_that_do_not_fit_are_refused() -> None:
    url = "https://bank.example/v1/status-lists/1"
    small = multibase_b64url_encode(gzip.compress(bytes(100)))
    listed = {
        "id": url,
        "credentialSubject": {
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": small,
        },
    }
    with pytest.raises(CredentialFormatError, match="at least"):
        read_status_bit(status_entry(url, 1), listed)
    with pytest.raises(CredentialRevokedError, match="not the one"):
        read_status_bit(status_entry("https://elsewhere.example/1", 1), listed)
    bomb = multibase_b64url_encode(gzip.compress(bytes(64 * 1024 * 1024)))
    with pytest.raises(CredentialFormatError, match="too large"):
        decode_list(bomb)
    with pytest.raises(CredentialFormatError):
        decode_list("uAAAA")
    with pytest.raises(ValueError, match="outside"):
        encode_list([MIN_LIST_BITS])


@given(st.binary(max_size=80))
def test_base58_and_base64url_round_trip(data: bytes) -> None:
    assert b58decode(b58encode(data)) == data
    assert multibase_b64url_decode(multibase_b64url_encode(data)) == data


def test_base58_known_answers_and_bad_digits() -> None:
    assert b58encode(b"\0\0hello") == "11Cn8eVZg"
    with pytest.raises(CredentialFormatError):
        b58decode("0OIl")
    with pytest.raises(CredentialFormatError):
        multibase_b64url_decode("uAA==")


def test_did_key_round_trip_and_refusals() -> None:
    key = Ed25519PrivateKey.generate().public_key()
    method = did_key_verification_method(key)
    assert method.startswith("did:key:z6Mk") and method.split("#")[1] == did_key(key)[8:]
    assert resolve_verification_method(method).public_bytes_raw() == key.public_bytes_raw()
    other = did_key(Ed25519PrivateKey.generate().public_key())
    for bad in (did_key(key), f"{did_key(key)}#{other[8:]}", "did:key:zNotAKey#zNotAKey", 42):
        with pytest.raises(DidResolutionError):
            resolve_verification_method(bad)


def test_did_web_of_base_urls() -> None:
    assert did_web("https://creditbank.example") == "did:web:creditbank.example"
    assert did_web("http://127.0.0.1:8000") == "did:web:127.0.0.1%3A8000"
    assert did_web("https://bank.example/sou/bank") == "did:web:bank.example:sou:bank"
    with pytest.raises(CredentialFormatError):
        did_web("bank.example")
