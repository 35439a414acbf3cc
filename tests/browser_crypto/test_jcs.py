"""jcs.js in a real Chromium: RFC 8785's own examples, and byte-for-byte agreement with the Python side.

The Python side is the reference: :func:`creditbank.ledger.canonical.canonical_bytes` for what the
ledger accepts (no floats), and the ``rfc8785`` library for numbers in general. Values travel to the
browser as JSON text and come back as hex of the UTF-8 bytes, so nothing is re-encoded on the way.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creditbank.ledger.canonical import canonical_bytes
from tests.browser_crypto.conftest import module_call

JCS = "/static/js/crypto/jcs.js"

_CANON_HEX = module_call(
    JCS,
    """const [texts, options] = arg;
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return texts.map((t) => {
    try { return hex(m.canonicalBytes(JSON.parse(t), options)); }
    catch (e) { return 'ERROR ' + e.name + ': ' + e.message; }
  });""",
)


def browser_canonical(page: Any, values: list[Any], **options: Any) -> list[bytes | str]:
    texts = [json.dumps(v, ensure_ascii=True) for v in values]
    out = page.evaluate(_CANON_HEX, [texts, options])
    return [o if o.startswith("ERROR") else bytes.fromhex(o) for o in out]


# --- RFC 8785's own examples -------------------------------------------------------------------

# Appendix B: IEEE 754 bit patterns and their canonical JSON numbers.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


def test_rfc8785_appendix_b_numbers(harness: Any) -> None:
    out = harness.evaluate(
        module_call(
            JCS,
            """return arg.map((hex) => {
            const view = new DataView(new ArrayBuffer(8));
            view.setBigUint64(0, BigInt('0x' + hex));
            return m.canonicalize(view.getFloat64(0));
          });""",
        ),
        [bits for bits, _ in APPENDIX_B],
    )
    assert out == [expected for _, expected in APPENDIX_B]
    # and the Python reference agrees on the same doubles
    for bits, expected in APPENDIX_B:
        (value,) = struct.unpack(">d", bytes.fromhex(bits))
        assert rfc8785.dumps(value).decode() == expected


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_rfc8785_appendix_b_nan_and_infinity_are_refused(harness: Any, bits: str) -> None:
    error = harness.evaluate(
        module_call(
            JCS,
            """const view = new DataView(new ArrayBuffer(8));
          view.setBigUint64(0, BigInt('0x' + arg));
          try { m.canonicalize({ n: view.getFloat64(0) }); return null; }
          catch (e) { return e.name + ' ' + e.path; }""",
        ),
        bits,
    )
    assert error == "CanonicalizationError $.n"


def test_rfc8785_3_2_2_example(harness: Any) -> None:
    source = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        r' "string": "\u20ac$\u000F\u000aA'
        + "'"
        + r'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    ).encode()
    out = harness.evaluate(
        module_call(JCS, "return m.canonicalize(JSON.parse(arg));"),
        source,
    )
    assert out.encode() == expected
    assert rfc8785.dumps(json.loads(source)) == expected


def test_rfc8785_3_2_3_sorting_by_utf16_code_units(harness: Any) -> None:
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    ).encode()
    assert browser_canonical(harness, [value]) == [expected] == [canonical_bytes(value)]


# --- agreement with the Python side ------------------------------------------------------------

KNOWN = [
    0,
    -1,
    9007199254740991,
    -9007199254740991,
    True,
    False,
    None,
    [],
    {},
    "",
    "\u2028\u2029\x7f",
    "\x00\x08\t\n\x0c\r\x1f",
    "\u00e9 学分银行 \U0001f600",
    {"b": [1, {"d": 1, "c": 2}], "a": "x"},
    {"\U0001f600": 1, "\ufb33": 2, "\uff61": 3, "a": {"z": [], "y": {}}},
    {"type": "credit.earned", "body": {"credits": "2.5", "course": "课程A"}, "nonce": "abc12345"},
]


def test_known_values_match_canonical_bytes(harness: Any) -> None:
    assert browser_canonical(harness, KNOWN) == [canonical_bytes(v) for v in KNOWN]
    assert browser_canonical(harness, KNOWN, integersOnly=True) == [
        canonical_bytes(v) for v in KNOWN
    ]


_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=10)
_ints = st.integers(-(2**53) + 1, 2**53 - 1)
_floats = st.floats(allow_nan=False, allow_infinity=False)


def _json(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
        max_leaves=12,
    )


_LEDGER = _json(st.none() | st.booleans() | _ints | _text)
_GENERAL = _json(st.none() | st.booleans() | _ints | _floats | _text)
_SETTINGS = settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(st.lists(_LEDGER, min_size=40, max_size=40))
def test_property_ledger_values_match_canonical_bytes(harness: Any, values: list[Any]) -> None:
    expected = [canonical_bytes(v) for v in values]
    assert browser_canonical(harness, values, integersOnly=True) == expected


@_SETTINGS
@given(st.lists(_GENERAL, min_size=40, max_size=40))
def test_property_any_json_matches_rfc8785(harness: Any, values: list[Any]) -> None:
    expected = [rfc8785.dumps(v) for v in values]
    assert browser_canonical(harness, values) == expected


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "where", "options"),
    [
        ("({a: [1, {b: 0.5}]})", "$.a[1].b", "{integersOnly: true}"),
        ("[2 ** 53]", "$[0]", "{integersOnly: true}"),
        ("({s: 'x\\ud800'})", "$.s", "{}"),
        ("({['\\udfff']: 1})", "$.\udfff", "{}"),
        ("({u: undefined})", "$.u", "{}"),
        ("[() => 1]", "$[0]", "{}"),
        ("({d: new Date(0)})", "$.d", "{}"),
        ("[1n]", "$[0]", "{}"),
        ("(() => { const a = []; a.push(a); return a; })()", None, "{}"),
    ],
)
def test_refusals_name_the_path(
    harness: Any, expression: str, where: str | None, options: str
) -> None:
    result = harness.evaluate(
        module_call(
            JCS,
            "try { m.canonicalize("
            + expression
            + ", "
            + options
            + "); return null; } catch (e) { return [e.name, e.path]; }",
        )
    )
    assert result is not None, "the value was accepted"
    assert result[0] == "CanonicalizationError"
    if where is not None:
        assert result[1] == where


def test_parse_canonical(harness: Any) -> None:
    result = harness.evaluate(
        module_call(
            JCS,
            """const verdict = (t) => { try { m.parseCanonical(new TextEncoder().encode(t)); return 'ok'; }
                                   catch (e) { return e.name; } };
          return ['{"a":[true,null,-3],"é":"\\\\n"}', '{"b":1,"a":2}', '{"a": 1}', '"\\\\u00e9"',
                  '1.0', '"\\\\/"'].map(verdict);""",
        )
    )
    assert result == [
        "ok",
        "CanonicalizationError",
        "CanonicalizationError",
        "CanonicalizationError",
        "CanonicalizationError",
        "CanonicalizationError",
    ]
