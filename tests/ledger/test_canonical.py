"""RFC 8785 (JCS): the RFC's own examples, our refusals, and agreement with the reference library."""

from __future__ import annotations

import json
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from creditbank.errors import EncodingError
from creditbank.ledger.canonical import (
    canonical_bytes,
    canonical_object,
    parse_canonical,
    parse_json,
)

# --- RFC 8785 known answers --------------------------------------------------------------------


def test_rfc8785_3_2_3_sorting_by_utf16_code_units() -> None:
    """Section 3.2.3: the emoji (U+1F600, UTF-16 D83D DE00) sorts *before* U+FB33."""
    source = (
        '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", '
        '"\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", '
        '"\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", '
        '"\\u00f6": "Latin Small Letter O With Diaeresis"}'
    )
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    ).encode()
    assert canonical_bytes(json.loads(source)) == expected
    order = list(json.loads(expected))
    assert order == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_rfc8785_3_2_2_string_escaping_and_literals() -> None:
    """Section 3.2.2's example without its numbers (floats are refused here, see below)."""
    source = (
        r'{"string": "\u20ac$\u000F\u000aA'
        + "'"
        + r'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]}'
    )
    expected = '{"literals":[null,true,false],"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    assert canonical_bytes(json.loads(source)) == expected.encode("utf-8")


def test_rfc8785_example_numbers_are_refused_as_floats() -> None:
    source = b'{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001]}'
    with pytest.raises(EncodingError, match="float"):
        parse_json(source)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, b"0"),
        (-1, b"-1"),
        (1, b"1"),
        (100, b"100"),
        (9007199254740991, b"9007199254740991"),
        (-9007199254740991, b"-9007199254740991"),
        (True, b"true"),
        (False, b"false"),
        (None, b"null"),
        ([], b"[]"),
        ({}, b"{}"),
        ("", b'""'),
        ("\u2028\u2029\x7f", b'"' + "\u2028\u2029\x7f".encode() + b'"'),
        ("\x00\x08\t\n\x0c\r\x1f", b'"\\u0000\\b\\t\\n\\f\\r\\u001f"'),
        ("\u00e9", b'"\xc3\xa9"'),
        ({"b": [1, {"d": 1, "c": 2}], "a": "x"}, b'{"a":"x","b":[1,{"c":2,"d":1}]}'),
    ],
)
def test_known_answers(value: Any, expected: bytes) -> None:
    assert canonical_bytes(value) == expected


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (1.5, r"\$"),
        (1.0, r"\$"),
        ({"a": [1, {"b": 0.1}]}, r"\$\.a\[1\]\.b"),
        ([[[2.0]]], r"\$\[0\]\[0\]\[0\]"),
        ({"x": float("nan")}, r"\$\.x"),
    ],
)
def test_floats_are_refused_anywhere(value: Any, where: str) -> None:
    with pytest.raises(EncodingError, match=where + ": floats are not allowed"):
        canonical_bytes(value)


@pytest.mark.parametrize("value", [2**53, -(2**53), 2**64, {"a": [2**53]}])
def test_integers_beyond_2_53_are_refused(value: Any) -> None:
    with pytest.raises(EncodingError, match="exact JSON range"):
        canonical_bytes(value)


@pytest.mark.parametrize(
    "value", [{1: "a"}, {"a": b"bytes"}, {"a": {1, 2}}, object(), "\ud800", {"\udfff": 1}]
)
def test_non_json_values_are_refused(value: Any) -> None:
    with pytest.raises(EncodingError):
        canonical_bytes(value)


@pytest.mark.parametrize(
    "data",
    [
        b'{"b":1,"a":2}',  # unsorted
        b'{"a": 1}',  # whitespace
        b'{"a":1} ',
        b'"\\u00e9"',  # escaped where JCS writes the character
        b'"\\u001F"',  # upper-case hex
        b'"\\/"',  # needless escape
        b'{"a":1,"a":1}',  # duplicate member
        b"1.0",
        b"1e3",
        b"-0",
        b"01",
        b"\xff",
        b"{",
        b'{"a":9007199254740992}',  # beyond the exact range (2**53)
        b"[-9007199254740992]",
        '{"a":1,"\uff61":3,"😀":2}'.encode(),  # code-point order; JCS sorts by UTF-16 unit
        b'"\\ud800"',  # a lone surrogate
    ],
)
def test_parse_canonical_refuses_non_canonical_bytes(data: bytes) -> None:
    with pytest.raises(EncodingError):
        parse_canonical(data)


def test_parse_canonical_accepts_canonical_bytes() -> None:
    data = '{"a":[true,null,-3],"é":"\\n"}'.encode()
    assert parse_canonical(data) == {"a": [True, None, -3], "é": "\n"}
    astral = '{"a":1,"😀":2,"\uff61":3}'.encode()  # UTF-16 order: U+D83D sorts before U+FF61
    assert parse_canonical(astral) == {"a": 1, "😀": 2, "\uff61": 3}
    assert parse_canonical(b"[9007199254740991]") == [2**53 - 1]


# --- properties --------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
)
keys = st.text(st.characters(exclude_categories=("Cs",)), max_size=6)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=20,
)
json_objects = st.dictionaries(keys, json_values, max_size=6)


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_agrees_with_the_reference_implementation(value: Any) -> None:
    assert canonical_bytes(value) == rfc8785.dumps(value)


@settings(max_examples=200, deadline=None)
@given(obj=json_objects)
def test_canonical_object_equals_canonical_bytes(obj: dict[str, Any]) -> None:
    members = {name: canonical_bytes(value) for name, value in obj.items()}
    assert canonical_object(members) == canonical_bytes(obj)


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_round_trip_through_parse_canonical(value: Any) -> None:
    data = canonical_bytes(value)
    assert parse_canonical(data) == value
    assert canonical_bytes(parse_canonical(data)) == data


@settings(max_examples=100, deadline=None)
@given(obj=json_objects.filter(lambda o: len(o) >= 2))
def test_any_whitespace_makes_bytes_non_canonical(obj: dict[str, Any]) -> None:
    spaced = json.dumps(obj, ensure_ascii=False, sort_keys=True, indent=1).encode()
    with pytest.raises(EncodingError):
        parse_canonical(spaced)
