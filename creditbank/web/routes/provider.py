"""Provider pages: issue and revoke certificates; register mappings by uploading a CSV.

An uploaded map is checked in full before anything can be signed: the same strict loader the CLI
uses (:func:`creditbank.mapping.load_catalog`, against the programmes the bank serves) lists every
problem with file, line and column, plus a line for each mapping that names another provider or
already exists. Only a file with no problem gets a "sign and post" form, whose entries (one
``mapping.registered`` per mapping) are signed in the browser like every other write.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session, select

from creditbank.accounts.tables import ActorRow, MappingRow
from creditbank.errors import MapLoadError, MapProblem
from creditbank.mapping import Catalog, Mapping, load_catalog
from creditbank.mapping.programmes_csv import PROGRAMME_COLUMNS
from creditbank.web.page import Page, PageDep

router = APIRouter(include_in_schema=False)

_MAX_UPLOAD = 1024 * 1024


def _provider(page: Page) -> ActorRow | None:
    user = page.principal
    if user is None or user.role != "provider" or user.actor_id is None:
        return None
    with Session(page.web.bank.engine) as session:
        return session.get(ActorRow, user.actor_id)


@router.get("/provider")
def provider_home(page: PageDep) -> Response:
    actor = _provider(page)
    if actor is None:
        return page.not_found()
    return page.render(
        "provider.html", actor=actor, today=page.web.today().isoformat(), preview=None
    )


def _blank(value: object) -> str:
    return "" if value is None else str(value)


def _programmes_csv(catalog: Catalog, folder: Path) -> Path:
    """The bank's programmes (with caps), written in the format the strict loader reads."""
    path = folder / "programmes.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(PROGRAMME_COLUMNS)
        for p in catalog.programmes:
            caps = p.caps
            head = [p.code, p.institution, p.title, p.total_credits, caps.max_recognised_credits,
                    caps.max_recognised_share, caps.max_certificates, caps.max_through_train_share]  # fmt: skip
            for c in p.courses:
                writer.writerow(
                    [_blank(v) for v in head] + [c.course_code, c.title, str(c.credits)]
                )
    return path


def check_upload(
    page: Page, actor: ActorRow, name: str, data: bytes
) -> tuple[list[MapProblem], list[Mapping]]:
    """Every problem of an uploaded map (file, line, column), or the mappings it registers."""
    with Session(page.web.bank.engine) as session:
        catalog = page.web.bank.catalog(session)
        existing = {(row.mapping_id, row.version) for row in session.exec(select(MappingRow))}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            loaded = load_catalog(path, _programmes_csv(catalog, Path(folder)))
        except MapLoadError as exc:
            return [
                MapProblem(
                    name if p.file == str(path) else Path(p.file).name, p.line, p.column, p.message
                )
                for p in exc.problems
            ], []
    mine = (actor.actor_id, actor.name)
    problems = [
        MapProblem(name, 0, "provider", f"mapping {m.mapping_id} names provider {m.provider}, not {actor.name}")
        for m in loaded.mappings
        if m.provider not in mine
    ] + [
        MapProblem(name, 0, "version", f"mapping {m.mapping_id} version {m.version} is already registered")
        for m in loaded.mappings
        if (m.mapping_id, m.version) in existing
    ]  # fmt: skip
    return problems, list(loaded.mappings)


@router.post("/provider/mappings/preview")
async def preview_upload(page: PageDep, request: Request) -> Response:
    actor = _provider(page)
    if actor is None:
        return page.not_found()
    async with request.form() as form:  # closes the spooled upload whatever happens
        if not page.csrf_ok(form):
            return page.forbidden()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return page.render(
                "provider.html",
                actor=actor,
                today=page.web.today().isoformat(),
                preview={
                    "name": "",
                    "mappings": [],
                    "problems": [MapProblem("", 0, None, page._("Choose a CSV file."))],
                },  # fmt: skip
            )
        data = await upload.read(_MAX_UPLOAD + 1)
    name = re.sub(r"[^\w.\-]+", "_", Path(upload.filename or "upload.csv").name) or "upload.csv"
    mappings: list[Mapping] = []
    if len(data) > _MAX_UPLOAD:
        problems = [MapProblem(name, 0, None, page._("The file is larger than 1 MiB."))]
    else:
        problems, mappings = check_upload(page, actor, name, data)
    bodies = [{"v": 1, "mapping": m.to_json()} for m in mappings] if not problems else []
    return page.render(
        "provider.html",
        actor=actor,
        today=page.web.today().isoformat(),
        preview={
            "name": name,
            "problems": problems,
            "mappings": mappings,
            "bodies": json.dumps(bodies, ensure_ascii=False),
        },  # fmt: skip
    )
