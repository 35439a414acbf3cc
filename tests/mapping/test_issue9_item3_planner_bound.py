"""Issue 9, item 3: one plan request could hold a CPU for half a minute.

160 what-if certificates of 6-18-01-01 (车工) level 4 and 160 of 6-18-01-02 (铣工) level 4 made the
many-to-one mapping ``CNC-TURNMILL`` a product of 25,600 options, solved and then explained one by
one (31.6 s). The option search now keeps, per mapping and required trade, the preferred
certificate of each class (see ``mapping/options.py``), so the options are bounded by the map, not
by the request. Timing is measured in ``bench/bench_planner_worst.py``; here the bound itself.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from creditbank.mapping import Catalog, CertificateHolding, CreditHolding, Holdings, plan
from creditbank.mapping.options import candidate_options
from creditbank.mapping.posted import summarise_posted

AS_OF = date(2026, 11, 24)


def _attack(n: int) -> Holdings:
    return Holdings(
        tuple(CertificateHolding(f"a{i:03d}", "6-18-01-01", 4, None, True) for i in range(n))
        + tuple(CertificateHolding(f"b{i:03d}", "6-18-01-02", 4, None, True) for i in range(n))
    )


def _options(catalog: Catalog, holdings: Holdings, programme: str) -> int:
    posted = summarise_posted(catalog, holdings, ())
    found = candidate_options(catalog, holdings, catalog.programme(programme), AS_OF, posted)
    return len(found.options)


def test_issue9_item3_options_do_not_grow_with_repeated_certificates(shipped: Catalog) -> None:
    one = _options(shipped, _attack(1), "SOU-CNC")
    assert _options(shipped, _attack(160), "SOU-CNC") == one
    assert one <= 10


def test_issue9_item3_the_attack_plans_the_same_as_one_pair(shipped: Catalog) -> None:
    small = plan(shipped, _attack(1), "SOU-CNC", AS_OF)
    big = plan(shipped, _attack(160), "SOU-CNC", AS_OF)
    assert [(r.course.course_code, r.credits) for r in big.recognitions] == [
        (r.course.course_code, r.credits) for r in small.recognitions
    ]
    assert {h for r in big.recognitions for h in r.source_holding_ids} <= {"a000", "b000"}
    assert len(big.unused) == 320 - len({h for r in big.recognitions for h in r.source_holding_ids})
    reasons = {u.reason.value for u in big.unused if u.holding_id not in {"a000", "b000"}}
    assert reasons == {"superseded"}


def test_issue9_item3_real_certificates_are_preferred_to_what_if(shipped: Catalog) -> None:
    real = CertificateHolding("real", "6-18-01-01", 4, date(2025, 1, 1))
    holdings = Holdings(_attack(40).certificates + (real,))
    result = plan(shipped, holdings, "SOU-CNC", AS_OF)
    used = {h for r in result.recognitions for h in r.source_holding_ids}
    assert "real" in used
    assert not any(h.startswith("a") for h in used)


def test_issue9_item3_repeated_course_credits_stay_bounded(shipped: Catalog) -> None:
    def credits(n: int) -> Holdings:
        return Holdings(
            credits=tuple(
                CreditHolding(
                    f"k{i:03d}", "STIEI", "EE2101", Decimal(4), Decimal(90), date(2025, 1, 1)
                )
                for i in range(n)
            )
        )

    one = _options(shipped, credits(1), "SOU-EAUTO")
    assert one >= 1
    many = _options(shipped, credits(300), "SOU-EAUTO")
    assert many <= one * one * 4
    small = plan(shipped, credits(1), "SOU-EAUTO", AS_OF)
    big = plan(shipped, credits(300), "SOU-EAUTO", AS_OF)
    assert big.new_credits == small.new_credits > 0
