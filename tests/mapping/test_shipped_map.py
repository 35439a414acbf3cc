"""The shipped map is real-sized, respects the published facts, and matches its documentation."""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

from creditbank.mapping import Catalog, Mode

ROOT = Path(__file__).resolve().parents[2]
NAMED_TRADES = {
    "6-18-02-04": "welding",
    "6-18-01-07": "CNC",
    "4-12-01-01": "automobile repair",
    "4-04-02-02": "network cabling",
    "4-04-04-02": "cybersecurity",
    "4-04-05-05": "artificial intelligence",
    "4-10-01-05": "elderly care",
}


def test_size_and_coverage(shipped: Catalog, shipped_rows: list[dict[str, str]]) -> None:
    assert len(shipped_rows) >= 150
    codes = {q.code for q in shipped.qualifications}
    assert len(codes) >= 12
    assert set(NAMED_TRADES) <= codes
    assert {m.mode for m in shipped.mappings} == set(Mode)
    open_university = [p for p in shipped.programmes if p.institution == "SOU"]
    assert len(open_university) >= 4


def test_programme_courses_add_up_to_the_total(shipped: Catalog) -> None:
    for programme in shipped.programmes:
        assert sum((c.credits for c in programme.courses), Decimal(0)) == programme.total_credits


def test_through_train_blocks_carry_40_to_60_percent(shipped: Catalog) -> None:
    blocks = [m for m in shipped.mappings if m.mode is Mode.THROUGH_TRAIN]
    assert blocks
    for block in blocks:
        share = block.target_credits / shipped.programme(block.programme_code).total_credits
        assert Decimal("0.4") <= share <= Decimal("0.6"), block.label


def test_examples_of_each_rule_exist(shipped: Catalog) -> None:
    mappings = shipped.mappings
    assert any(len(m.targets) >= 3 and m.mode is Mode.CERTIFICATE_RECOGNITION for m in mappings)
    assert any(len(m.qualification_requirements) > 1 for m in mappings)  # many-to-one
    assert any(len(shipped.versions(m.mapping_id)) > 1 for m in mappings)  # versions
    assert any(m.effective_to is not None for m in mappings)  # retired / superseded versions
    assert any(m.valid_years is None for m in mappings)  # no validity limit
    grades = [m.source_course.min_grade for m in mappings if m.source_course is not None]
    assert any(g is not None for g in grades)
    # levels of one trade: the same trade mapped at several minimum levels (supersession)
    levels = Counter(
        (r.code, m.programme_code) for m in mappings for r in m.qualification_requirements
    )
    assert max(levels.values()) >= 3
    # a chain: a credit-recognition source that is itself the target of another recognition
    targets = {t.key for m in mappings if m.mode is Mode.CREDIT_RECOGNITION for t in m.targets}
    assert any(m.source_course is not None and m.source_course.key in targets for m in mappings)


def test_documented_example_rows_exist(shipped: Catalog) -> None:
    text = (ROOT / "docs" / "qualification-map.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`((?:CNC|AUTO|ELDER|INFOSEC|EAUTO|ECOM)-[A-Z0-9-]+)`", text))
    assert len(documented) >= 8
    known = {m.mapping_id for m in shipped.mappings}
    assert documented <= known, documented - known
