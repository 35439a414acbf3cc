"""Fuzzing the transcript verifier: a mangled transcript is refused with a creditbank error.

A transcript is a file a worker hands to strangers, so :func:`verify_transcript` must treat it as
hostile. Hypothesis takes a real transcript from the demo ledger (certificates, credits, a
conversion, the signers' registrations back to genesis) and applies random mutations anywhere in
it: values replaced by other JSON (wrong types, huge or negative numbers, floats, nulls), members
deleted or added, list items dropped, duplicated or swapped, strings cut or altered. The verifier
must either accept it (a harmless mutation, e.g. swapping two entries) or raise a
:class:`~creditbank.errors.CreditbankError`; never a ``KeyError``, ``TypeError``,
``decimal.InvalidOperation`` or the like. An accepted mutation must prove exactly what the
original proves.
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creditbank.accounts.transcript import ProvenCredits, verify_transcript
from creditbank.errors import CreditbankError
from creditbank.ledger.checkpoint import NoteVerifier
from tests.api.world import World

FUZZ = settings(
    max_examples=int(os.environ.get("CREDITBANK_FUZZ_EXAMPLES", "150")) * 2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def transcript(sqlite_world: World) -> tuple[dict[str, Any], list[NoteVerifier], ProvenCredits]:
    learner = sqlite_world.learner.learner_id
    bundle = json.loads(json.dumps(sqlite_world.bank.transcript(learner)))  # as a client has it
    trusted = [sqlite_world.bank.log.verifier]
    return bundle, trusted, verify_transcript(bundle, trusted)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _at(root: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        root = root[step]
    return root


@st.composite
def mutated(draw: st.DrawFn, original: dict[str, Any]) -> Any:
    doc: Any = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        # Half the time aim at the entries themselves (a list among hundreds of paths).
        if draw(st.booleans()) and isinstance(doc, dict) and isinstance(doc.get("entries"), list):
            paths = [("entries",)]
        path = draw(st.sampled_from(paths))
        kind = draw(st.sampled_from(["replace", "delete", "add", "list", "string", "number"]))
        if not path:
            if kind == "replace":
                doc = draw(JSON)
            continue
        parent, last = _at(doc, path[:-1]), path[-1]
        value = parent[last]
        if kind == "replace":
            parent[last] = draw(JSON)
        elif kind == "delete":
            del parent[last]
        elif kind == "add" and isinstance(value, dict):
            value[draw(st.text(max_size=10))] = draw(JSON)
        elif kind == "list" and isinstance(value, list) and value:
            i, j = draw(st.integers(0, len(value) - 1)), draw(st.integers(0, len(value) - 1))
            operation = draw(st.sampled_from(["drop", "dup", "swap"]))
            if operation == "drop":
                del value[i]
            elif operation == "dup":
                value.insert(j, copy.deepcopy(value[i]))
            else:
                value[i], value[j] = value[j], value[i]
        elif kind == "string" and isinstance(value, str):
            cut = draw(st.integers(0, len(value)))
            parent[last] = value[:cut] + draw(st.text(max_size=3)) + value[cut + 1 :]
        elif kind == "number" and isinstance(value, int) and not isinstance(value, bool):
            parent[last] = draw(st.sampled_from([-1, 0, value + 1, value - 1, 2**64, -(2**63)]))
    return doc


@FUZZ
@given(data=st.data())
def test_a_mutated_transcript_is_refused_with_a_creditbank_error(
    transcript: tuple[dict[str, Any], list[NoteVerifier], ProvenCredits], data: st.DataObject
) -> None:
    original, trusted, proven = transcript
    doc = data.draw(mutated(original))
    try:
        result = verify_transcript(doc, trusted)
    except CreditbankError:
        return
    # Accepted: the leaves are signed and included in a signed checkpoint, so what an accepted
    # transcript proves is what the original proves, or less (a holder may leave entries out);
    # never an item the original does not prove, and never one item twice.
    if result.learner_id != proven.learner_id:  # then no entry of the original may count
        assert not (result.certificates or result.credits_earned or result.recognised)
    for kind, key in (("certificates", "certificate_id"), ("credits_earned", "credit_id")):
        ids = [item[key] for item in getattr(result, kind)]
        assert len(ids) == len(set(ids)), f"{kind} counted twice: {ids}"
        assert set(ids) <= {item[key] for item in getattr(proven, kind)}
