"""Issue 12 item 6: cohort imports (learners, certificates, credits) through the real HTTP API.

Every import here goes file -> checks -> signed entries -> ``POST /v1/batch`` over HTTP into the
demo ledger on SQLite; the log's size tells what was appended.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook
from starlette.testclient import TestClient

from creditbank.accounts.cohort_files import read_cohort_file
from creditbank.cli.import_commands import ImportClient, learner_ids_path, rejects_path, run_import
from creditbank.errors import CohortFileError, StorageError
from creditbank.ledger.chain import INDEX_ENTRY_TYPE
from tests.api.world import Actor, World, unique

TODAY = date(2026, 11, 24)
CERT_HEADER = ["certificate_id", "learner_id", "qualification_code", "level", "issued_on"]


class ThroughTestClient(httpx.BaseTransport):
    """httpx requests served by the app in the Starlette test client (real HTTP semantics)."""

    def __init__(self, http: TestClient) -> None:
        self.http = http

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.http.request(
            request.method,
            request.url.raw_path.decode(),
            content=request.read(),
            headers=dict(request.headers),
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


@pytest.fixture
def client_for(http: TestClient) -> Iterator[Any]:
    opened: list[ImportClient] = []

    def make(actor: Actor) -> ImportClient:
        client = ImportClient(
            "http://testserver",
            token=actor.token,
            signer=actor.signer,
            transport=ThroughTestClient(http),
        )
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


def write_csv(path: Path, rows: list[list[Any]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def size(world: World) -> int:
    """Entries in the log, not counting the learner index roots the log adds to each batch."""
    log = world.bank.log
    return sum(1 for row in log.store.leaves(0, log.size()) if row.entry_type != INDEX_ENTRY_TYPE)


def cert_rows(world: World, n: int) -> list[list[Any]]:
    learner = world.new_learner().learner_id
    return [[unique("C"), learner, "6-18-01-01", 4, "2025-06-30"] for _ in range(n)]


def test_certificates_import_once_and_reimport_appends_nothing(
    world: World, client_for: Any, tmp_path: Path
) -> None:
    provider = world.provider
    path = write_csv(tmp_path / "certs.csv", [CERT_HEADER, *cert_rows(world, 5)])
    before = size(world)
    client = client_for(provider)
    first = run_import(client, provider.signer, "certificates", path, batch_rows=2)
    assert (first.appended, first.already, first.batches) == (5, 0, 3)
    assert size(world) == before + 5
    again = run_import(client, provider.signer, "certificates", path, batch_rows=2)
    assert (again.appended, again.already) == (0, 5)
    assert size(world) == before + 5


def test_revocations_by_file_take_reason_codes_or_their_labels(
    world: World, client_for: Any, tmp_path: Path
) -> None:
    provider = world.provider
    rows = cert_rows(world, 3)
    client = client_for(provider)
    run_import(
        client, provider.signer, "certificates", write_csv(tmp_path / "c.csv", [CERT_HEADER, *rows])
    )
    draft = write_csv(
        tmp_path / "draft.csv",
        [["证书编号", "撤销原因"], [rows[0][0], "录入错误"], [rows[1][0], "Fraud or forgery"],
         [rows[2][0], "fraud"], [rows[2][0], "because"]],
    )  # fmt: skip
    cohort = read_cohort_file("revocations", draft, today=TODAY)
    assert [r.values["reason"] for r in cohort.rows] == ["entered-in-error", "fraud", "fraud"]
    assert [(p.row, p.column) for p in cohort.problems] == [(5, "reason")]
    assert "entered-in-error" in cohort.problems[0].en and "录入错误" in cohort.problems[0].zh
    path = write_csv(
        tmp_path / "revoke.csv", [["certificate_id", "reason"], *(r[:1] + ["fraud"] for r in rows)]
    )
    before = size(world)
    result = run_import(client, provider.signer, "revocations", path)
    assert (result.appended, result.already) == (3, 0) and size(world) == before + 3
    assert run_import(client, provider.signer, "revocations", path).already == 3


def test_a_bad_row_appends_nothing_and_names_file_row_column(
    world: World, client_for: Any, tmp_path: Path
) -> None:
    provider = world.provider
    rows = cert_rows(world, 3)
    rows[1][3] = 9  # level
    rows[2][4] = "2026/01/05"  # date
    path = write_csv(tmp_path / "bad.csv", [CERT_HEADER, *rows])
    before = size(world)
    with pytest.raises(CohortFileError) as refused:
        run_import(client_for(provider), provider.signer, "certificates", path)
    found = {(p.file, p.row, p.column) for p in refused.value.problems}
    assert found == {("bad.csv", 3, "level"), ("bad.csv", 4, "issued_on")}
    text = str(refused.value.problems[0])
    assert "等级" in text and "must be a whole number 1..5" in text
    assert size(world) == before


def test_partial_appends_good_rows_and_writes_rejects(
    world: World, client_for: Any, tmp_path: Path
) -> None:
    provider = world.provider
    rows = cert_rows(world, 4)
    rows[0][2] = "6-18-01"  # not an occupation code
    rows[3][1] = "L-nobody"  # refused by the server: no such learner
    path = write_csv(tmp_path / "mixed.csv", [CERT_HEADER, *rows])
    before = size(world)
    result = run_import(client_for(provider), provider.signer, "certificates", path, partial=True)
    assert result.appended == 2 and size(world) == before + 2
    assert sorted(p.row for p in result.rejected) == [2, 5]
    rejects = read_csv(rejects_path(path))
    assert rejects[0][-1] == "错误 / error"
    assert [r[0] for r in rejects[1:]] == ["2", "5"]
    assert oct(rejects_path(path).stat().st_mode & 0o777) == "0o600"


def test_a_server_refusal_without_partial_names_the_row(
    world: World, client_for: Any, tmp_path: Path
) -> None:
    provider = world.provider
    rows = cert_rows(world, 3)
    rows[1][1] = "L-nobody"
    path = write_csv(tmp_path / "unknown.csv", [CERT_HEADER, *rows])
    before = size(world)
    with pytest.raises(CohortFileError) as refused:
        run_import(client_for(provider), provider.signer, "certificates", path)
    assert [p.row for p in refused.value.problems] == [3]
    assert size(world) == before  # one batch: all or nothing


def test_an_interrupted_import_resumes_with_whole_batches(
    world: World, client_for: Any, tmp_path: Path
) -> None:
    provider = world.provider
    path = write_csv(tmp_path / "big.csv", [CERT_HEADER, *cert_rows(world, 7)])
    client = client_for(provider)
    real = client.submit_batch
    calls = 0

    def dies_after_two(items: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls > 2:
            raise StorageError("the importer was killed")
        return real(items)

    client.submit_batch = dies_after_two  # type: ignore[method-assign]
    before = size(world)
    with pytest.raises(StorageError):
        run_import(client, provider.signer, "certificates", path, batch_rows=3)
    assert size(world) == before + 6  # two whole batches of three
    client.submit_batch = real  # type: ignore[method-assign]
    result = run_import(client, provider.signer, "certificates", path, batch_rows=3)
    assert (result.appended, result.already) == (1, 6)
    assert size(world) == before + 7


def test_gbk_csv_with_chinese_headers_is_read(sqlite_world: World, tmp_path: Path) -> None:
    world = sqlite_world
    header = ["证书编号", "学员编号", "职业代码", "等级", "发证日期"]
    path = write_csv(tmp_path / "gbk.csv", [header, *cert_rows(world, 2)], encoding="gbk")
    cohort = read_cohort_file("certificates", path, today=TODAY)
    assert cohort.encoding == "gbk" and not cohort.problems and len(cohort.rows) == 2


def test_an_undecodable_csv_says_how_to_save_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "utf16.csv"
    path.write_bytes("姓名,身份证号\n张三,1\n".encode("utf-16"))
    with pytest.raises(CohortFileError) as refused:
        read_cohort_file("learners", path, today=TODAY)
    assert "CSV UTF-8" in str(refused.value)


def test_unknown_and_missing_columns_are_named(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "cols.csv", [["name", "passport"], ["张三", "X"]])
    cohort = read_cohort_file("learners", path, today=TODAY)
    assert {(p.row, p.column) for p in cohort.problems} == {(1, "id_number"), (1, "passport")}
    assert cohort.rows == []


def test_id_number_check_digit_future_dates_and_duplicates(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "people.csv",
        [["name", "id_number"], ["张三", "11010519491231002X"], ["李四", "110105194912310021"],
         ["王五", "11010519491231002X"]],
    )  # fmt: skip
    cohort = read_cohort_file("learners", path, today=TODAY)
    assert [(p.row, p.column) for p in cohort.problems] == [(3, "id_number"), (4, "id_number")]
    assert "校验位" in cohort.problems[0].zh and "duplicate of row 2" in cohort.problems[1].en
    credits = write_csv(
        tmp_path / "credits.csv",
        [["credit_id", "learner_id", "institution", "course_code", "credits", "grade",
          "earned_on"], ["K1", "L-1", "SSPU", "ME1021", "2.5", "90", "2027-01-01"]],
    )  # fmt: skip
    problems = read_cohort_file("credits", credits, today=TODAY).problems
    assert [(p.row, p.column) for p in problems] == [(2, "earned_on")]


def test_xlsx_dates_and_numbers(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["credit_id", "learner_id", "institution", "course_code", "credits", "grade",
                  "earned_on"])  # fmt: skip
    sheet.append(["K-1", "L-1", "SSPU", "ME1021", 2.5, 88, date(2025, 1, 15)])
    sheet.append(["K-2", "L-1", "SSPU", "ME1105", 3, 71.5, date(2025, 1, 15)])
    path = tmp_path / "credits.xlsx"
    book.save(path)
    cohort = read_cohort_file("credits", path, today=TODAY)
    assert cohort.rows[0].values["credits"] == "2.5"
    assert cohort.rows[0].values["earned_on"] == date(2025, 1, 15)
    assert [(p.row, p.column) for p in cohort.problems] == [(3, "grade")]


def test_learners_then_credits(world: World, client_for: Any, tmp_path: Path) -> None:
    registrar = world.registrar
    people = write_csv(
        tmp_path / "people.csv",
        [["姓名", "身份证号"], ["张三", unique("ID")], ["李四", unique("ID")]],
    )
    client = client_for(registrar)
    before = size(world)
    result = run_import(client, registrar.signer, "learners", people)
    assert result.appended == 2 and size(world) == before + 2
    ids = read_csv(learner_ids_path(people))
    assert ids[0] == ["row", "learner_id"] and len(ids) == 3
    again = run_import(client, registrar.signer, "learners", people)
    assert (again.appended, again.already) == (0, 2) and size(world) == before + 2
    credits = write_csv(
        tmp_path / "credits.csv",
        [["credit_id", "learner_id", "institution", "course_code", "credits", "grade",
          "earned_on"],
         [unique("K"), ids[1][1], "SOU", "EA201", "4", "82", "2024-01-15"]],
    )  # fmt: skip
    assert run_import(client, registrar.signer, "credits", credits).appended == 1
    balance = world.bank.balance(ids[1][1], None)
    assert balance is not None


def test_a_refusal_in_a_later_batch_keeps_earlier_batches_and_resumes(
    world: World, client_for: Any, tmp_path: Path
) -> None:
    provider = world.provider
    rows = cert_rows(world, 5)
    good_learner = rows[4][1]
    rows[4][1] = "L-nobody"  # in the third batch of two
    path = write_csv(tmp_path / "late.csv", [CERT_HEADER, *rows])
    client = client_for(provider)
    before = size(world)
    with pytest.raises(CohortFileError) as refused:
        run_import(client, provider.signer, "certificates", path, batch_rows=2)
    assert refused.value.appended == 4 and "re-run to resume" in str(refused.value)
    assert [p.row for p in refused.value.problems] == [6]
    assert size(world) == before + 4
    rows[4][1] = good_learner
    write_csv(path, [CERT_HEADER, *rows])
    result = run_import(client, provider.signer, "certificates", path, batch_rows=2)
    assert (result.appended, result.already) == (1, 4) and size(world) == before + 5
