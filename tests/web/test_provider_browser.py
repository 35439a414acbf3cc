"""A provider uploads a mapping CSV: every bad line is shown (file, line, column) before signing."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from creditbank.accounts.wiring import shipped_data_dir
from tests.web.conftest import LiveDemo, sign_in


def _rows_of(provider_name: str) -> tuple[list[str], list[dict[str, str]]]:
    with (shipped_data_dir() / "qualification_map.csv").open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = [row for row in reader if row["provider"] == provider_name]
        return list(reader.fieldnames or []), rows


def _write(path: Path, columns: list[str], rows: list[dict[str, str]]) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _upload(page: Any, path: Path) -> None:
    page.goto("/provider")
    page.set_input_files("#map-file", str(path))
    page.click("#upload-h ~ form button[type=submit]")
    page.wait_for_load_state()


def test_a_bad_line_is_shown_with_file_line_and_column_and_nothing_is_signed(
    context: Any, live: LiveDemo, tmp_path: Path
) -> None:
    provider = live.setup.providers[0]
    columns, rows = _rows_of(provider.name)
    first = {**rows[0], "mapping_id": "WEB-UPLOAD-1"}
    bad = {**rows[0], "mapping_id": "WEB-UPLOAD-2", "min_level": "9"}
    page = context.new_page()
    sign_in(page, provider.token)
    size = live.bank.log.size()
    _upload(page, _write(tmp_path / "my-map.csv", columns, [first, bad]))
    problems = page.locator("#problems tbody tr")
    assert problems.count() >= 1
    cells = problems.first.locator("td").all_inner_texts()
    assert cells[0] == "my-map.csv" and cells[1] == "3" and cells[2] == "min_level", cells
    assert page.locator("#register-mappings").count() == 0  # nothing to sign
    assert live.bank.log.size() == size

    good = _write(tmp_path / "fixed.csv", columns, [first])
    _upload(page, good)
    assert page.locator("#problems").count() == 0
    form = "#register-mappings"
    page.set_input_files(f"{form} input[type=file]", str(provider.private_key_path))
    page.click(f"{form} button[type=submit]")
    page.wait_for_function(
        "(sel) => document.querySelector(sel).className !== ''",
        arg=f"{form} [role=status]",
        timeout=30_000,
    )
    status = page.locator(f"{form} [role=status]")
    assert status.get_attribute("class") == "ok", status.inner_text()
    index = int(status.get_attribute("data-index") or "-1")
    leaf = live.bank.log.leaf(index)
    assert leaf.signed.entry.type == "mapping.registered"
    assert leaf.signed.entry.body["mapping"]["mapping_id"] == "WEB-UPLOAD-1"
    leaf.signed.verify()
