"""Bulk imports from the pages: a cohort file checked in full, then its rows signed in the browser.

A registrar imports learners and earned credits (``/registrar/imports``), a provider issues and
revokes certificates by file (``/provider/imports``). The upload (CSV, UTF-8 or GBK, or XLSX) is
read and checked by the same code as ``creditbank import`` (:func:`read_cohort_file`): any bad row
is listed with file, row, column and the problem in Chinese and English, and nothing can be signed.
A file without problems gets a signing form holding one item per row: the body and nonce the CLI
would sign (:func:`row_body`, :func:`row_nonce`), or for a learner the name and ID number, from
which the page makes the random learner id, salt and commitment and the nonce keyed by the
registrar's own key (as :class:`~creditbank.accounts.cohorts.Importer` does). ``static/js/bulk.js``
then signs the rows and posts them in all-or-nothing batches (``routes/batch.py``).
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from creditbank.accounts.cohort_files import KINDS, CohortFile, read_cohort_file
from creditbank.accounts.cohorts import row_body, row_nonce
from creditbank.errors import CohortFileError, CohortProblem
from creditbank.web.page import Page, PageDep

__all__ = ["AUDIENCES", "router"]

router = APIRouter(include_in_schema=False)

#: Which role imports which kinds of file, by the page's path.
AUDIENCES: dict[str, tuple[str, ...]] = {
    "registrar": ("learners", "credits"),
    "provider": ("certificates", "revocations"),
}

_MAX_UPLOAD = 1024 * 1024


def _allowed(page: Page, audience: str) -> bool:
    user = page.principal
    return (
        audience in AUDIENCES
        and user is not None
        and user.role == audience
        and user.actor_id is not None
    )


def _render(
    page: Page, audience: str, preview: dict[str, Any] | None, status: int = 200
) -> Response:
    return page.render(
        "imports.html",
        status=status,
        audience=audience,
        kinds=[(kind, KINDS[kind]) for kind in AUDIENCES[audience]],
        actor=page.principal.actor_id if page.principal else "",
        preview=preview,
    )


def _show(audience: str) -> Any:
    def show(page: PageDep) -> Response:
        if not _allowed(page, audience):
            return page.not_found()
        return _render(page, audience, None)

    return show


def _items(cohort: CohortFile) -> list[dict[str, Any]]:
    """What the browser signs, one item per good row (in the file's order)."""
    if cohort.kind == "learners":
        return [
            {
                "row": r.row,
                "identity": {"name": r.values["name"], "id_number": r.values["id_number"]},
            }
            for r in cohort.rows
        ]
    return [
        {"row": r.row, "nonce": row_nonce(cohort.kind, r, b""), "body": row_body(cohort.kind, r)}
        for r in cohort.rows
    ]


def check_file(page: Page, kind: str, name: str, data: bytes) -> CohortFile:
    """The uploaded file read and checked as the CLI reads it (today in the configured zone)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            return read_cohort_file(kind, path, today=page.web.today())
        except CohortFileError as exc:
            return CohortFile(kind, name, [], problems=list(exc.problems))


def _file_name(filename: str | None, kind: str) -> str:
    name = re.sub(r"[^\w.\-]+", "_", Path(filename or "").name).strip("._")
    return name or f"{kind}.csv"


def _problem(name: str, zh: str, en: str) -> CohortFile:
    return CohortFile("", name, [], problems=[CohortProblem(name, 0, None, zh, en)])


async def preview_import(page: Page, request: Request, audience: str) -> Response:
    """Check the uploaded file; show its problems, or the rows and the form that signs them."""
    async with request.form() as form:  # closes the spooled upload whatever happens
        if not page.csrf_ok(form):
            return page.forbidden()
        if not _allowed(page, audience):
            return page.not_found()
        kind = str(form.get("kind") or "")
        if kind not in AUDIENCES[audience]:
            return page.not_found()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            cohort = _problem("", "请选择文件", "choose a file")
        else:
            name = _file_name(upload.filename, kind)
            data = await upload.read(_MAX_UPLOAD + 1)
            if len(data) > _MAX_UPLOAD:
                cohort = _problem(name, "文件超过 1 MiB", "the file is larger than 1 MiB")
            else:
                # Reading an XLSX file takes a while: off the event loop.
                cohort = await run_in_threadpool(check_file, page, kind, name, data)
    entry_type, columns = KINDS[kind]
    items = _items(cohort) if not cohort.problems else []
    preview = {
        "kind": kind,
        "entry_type": entry_type,
        "name": cohort.path,
        "gbk": cohort.encoding == "gbk",
        "columns": columns,
        "problems": cohort.problems,
        "rows": cohort.rows if not cohort.problems else [],
        "signing_items": json.dumps(items, ensure_ascii=False),
    }
    return _render(page, audience, preview, status=422 if cohort.problems else 200)


def _check(audience: str) -> Any:
    async def check(page: PageDep, request: Request) -> Response:
        return await preview_import(page, request, audience)

    return check


for _audience in AUDIENCES:
    router.add_api_route(f"/{_audience}/imports", _show(_audience), methods=["GET"])
    router.add_api_route(f"/{_audience}/imports/preview", _check(_audience), methods=["POST"])
