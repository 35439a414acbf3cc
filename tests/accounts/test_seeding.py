"""The programmes file ``init --seed`` registers is checked whole, as the bank will check its
entries, before anything is written: each problem names the file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from creditbank.accounts.seeding import plan_seed, read_seed_programmes
from creditbank.accounts.wiring import shipped_data_dir
from creditbank.errors import MapLoadError

HEADER = (
    "programme_code,institution,programme_title,total_credits,max_recognised_credits,"
    "max_recognised_share,max_certificates,max_through_train_share,course_code,course_title,credits"
)


def problems_of(tmp_path: Path, *rows: str) -> list[tuple[int, str | None, str]]:
    path = tmp_path / "programmes.csv"
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    with pytest.raises(MapLoadError) as caught:
        read_seed_programmes(path)
    assert {p.file for p in caught.value.problems} == {str(path)}
    return [(p.line, p.column, p.message) for p in caught.value.problems]


def test_an_institution_code_the_bank_would_refuse(tmp_path: Path) -> None:
    ((line, column, message),) = problems_of(
        tmp_path, "P-ONE,sou,One,10,,0.6,,,C1,Course one,4", "P-ONE,sou,One,10,,0.6,,,C2,Two,4"
    )
    assert (line, column) == (2, "institution")
    assert "an institution code is 2 to 16 capital letters" in message and "'sou'" in message


def test_programmes_that_disagree_on_a_shared_course(tmp_path: Path) -> None:
    ((line, column, message),) = problems_of(
        tmp_path,
        "P-ONE,SOU,One,10,,0.6,,,C1,Course one,4",
        "P-TWO,SOU,Two,10,,0.6,,,C1,Course one,5",
    )
    assert (line, column) == (3, "credits")
    assert "5 credits here but 4 in programme P-ONE" in message


def test_the_shipped_file_plans_one_institution_and_its_registrar(tmp_path: Path) -> None:
    programmes = read_seed_programmes(shipped_data_dir() / "programmes.csv")
    (sou,) = plan_seed(programmes, tmp_path)
    assert (sou.code, sou.registrar_id) == ("SOU", "reg-sou")
    assert (sou.key_file, sou.registrar_key_file) == (
        tmp_path / "SOU.key",
        tmp_path / "reg-sou.key",
    )
    assert sou.programmes == programmes
