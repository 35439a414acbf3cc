"""Pages anyone may open: home, the catalogue (searchable) and the log explorer."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlmodel import Session

from creditbank.errors import NotFoundError
from creditbank.mapping import Catalog
from creditbank.web.page import Page, PageDep

router = APIRouter(include_in_schema=False)

_PAGE = 20


def _catalog(page: Page) -> Catalog:
    bank = page.web.bank
    with Session(bank.engine) as session:
        return bank.catalog(session)


@router.get("/")
def home(page: PageDep) -> Response:
    return page.render("home.html", tree_size=page.web.bank.log.size())


@router.get("/catalogue")
def catalogue(
    page: PageDep,
    q: Annotated[str, Query(max_length=100)] = "",
    programme: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    catalog = _catalog(page)
    needle = q.strip().lower()
    names = {item.code: item.name for item in catalog.qualifications}

    def hit(*texts: str) -> bool:
        return not needle or any(needle in text.lower() for text in texts)

    qualifications = [item for item in catalog.qualifications if hit(item.code, item.name)]
    programmes = [
        p
        for p in catalog.programmes
        if (not programme or p.code == programme)
        and (
            hit(p.code, p.title, p.institution)
            or any(hit(c.title, c.course_code) for c in p.courses)
        )
    ]
    titles = {
        (c.institution, c.course_code): c.title for p in catalog.programmes for c in p.courses
    }
    mappings = [
        m
        for m in catalog.mappings
        if (not programme or m.programme_code == programme)
        and hit(
            m.mapping_id,
            m.provider,
            m.programme_code,
            *(q.code for q in m.qualification_requirements),
            *(names.get(q.code, "") for q in m.qualification_requirements),
            *(t.title for t in m.targets),
        )
    ]
    return page.render(
        "catalogue.html",
        q=q,
        programme=programme,
        all_programmes=catalog.programmes,
        qualifications=qualifications[:200],
        qualification_total=len(qualifications),
        programmes=programmes,
        mappings=mappings[:200],
        mapping_total=len(mappings),
        names=names,
        titles=titles,
    )


def _latest_size(page: Page) -> tuple[int, str]:
    try:
        checkpoint = page.web.bank.log.latest_checkpoint()
    except NotFoundError:
        return 0, ""
    return checkpoint.tree_size, checkpoint.note


@router.get("/log")
def log_explorer(
    page: PageDep,
    start: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
) -> Response:
    size, note = _latest_size(page)
    first = max(0, size - _PAGE) if start is None else min(start, max(0, size - 1))
    last = min(size, first + _PAGE)
    leaves = page.web.bank.log.leaves(first, last) if last > first else []
    entries = [
        (index, leaf.signed.entry.type, leaf.signed.entry.actor, leaf.integrated_at)
        for index, leaf in leaves
    ]
    return page.render(
        "log.html",
        note=note,
        size=size,
        entries=list(reversed(entries)),
        newer=last if last < size else None,
        older=max(0, first - _PAGE) if first > 0 else None,
    )


@router.get("/log/entries/{index}")
def log_entry(page: PageDep, index: Annotated[int, Path(ge=0, le=2**63 - 1)]) -> Response:
    size, _note = _latest_size(page)
    if index >= size:
        return page.not_found()
    leaf = page.web.bank.log.leaf(index)
    return page.render(
        "log_entry.html",
        index=index,
        tree_size=size,
        leaf_text=json.dumps(json.loads(leaf.data), ensure_ascii=False, indent=2),
        entry_type=leaf.signed.entry.type,
        actor=leaf.signed.entry.actor,
        integrated_at=leaf.integrated_at,
    )
