"""``creditbank map check|show`` and ``creditbank plan``: the qualification map from the shell.

Thin commands: each parses its options, calls one function of :mod:`creditbank.mapping`, and prints
a rich table (or JSON with ``--json``). Domain errors propagate to :func:`creditbank.cli.main`,
which prints them and chooses the exit code.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from creditbank.accounts.wiring import shipped_data_dir
from creditbank.cli.common import new_app
from creditbank.errors import HoldingsError, InputError, NotFoundError
from creditbank.mapping import (
    Catalog,
    Conversion,
    Mapping,
    Plan,
    QualificationRequirement,
    load_catalog,
    parse_holdings,
    plan,
)
from creditbank.mapping.values import format_decimal, parse_date, parse_level

__all__ = ["app"]

MapFile = Annotated[
    Path | None,
    typer.Option(
        "--map", metavar="FILE", help="The qualification map CSV (default: the shipped one)."
    ),
]
ProgrammesFile = Annotated[
    Path | None,
    typer.Option(
        "--programmes", metavar="FILE", help="The programmes CSV (default: the shipped one)."
    ),
]


def _files(map_file: Path | None, programmes: Path | None) -> tuple[Path, Path]:
    """The files to load: those given, else the map and programmes shipped in the package."""
    shipped = shipped_data_dir()
    return (
        map_file or shipped / "qualification_map.csv",
        programmes or shipped / "programmes.csv",
    )


AsOf = Annotated[
    str | None, typer.Option("--as-of", help="Conversion date YYYY-MM-DD (default: today).")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]

app = new_app(help="The qualification map and the planner.")
map_app = new_app(
    help="The qualification map: check the CSV files, show what a qualification converts into."
)
app.add_typer(map_app, name="map")


def _date(text: str | None) -> date:
    if text is None:
        return date.today()
    try:
        return parse_date(text, "--as-of")
    except ValueError as exc:
        raise InputError(str(exc)) from exc


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


@map_app.command("check")
def check(
    file: Annotated[
        Path | None, typer.Argument(help="The qualification map CSV (default: the shipped one).")
    ] = None,
    programmes: ProgrammesFile = None,
    as_json: AsJson = False,
) -> None:
    """Load both files strictly; print a summary, or every problem (and exit non-zero)."""
    file, programmes = _files(file, programmes)
    catalog = load_catalog(file, programmes)
    modes = Counter(m.mode.value for m in catalog.mappings)
    summary = {
        "map": str(file),
        "programmes_file": str(programmes),
        "programmes": len(catalog.programmes),
        "mapping_ids": len({m.mapping_id for m in catalog.mappings}),
        "mapping_versions": len(catalog.mappings),
        "qualifications": len(catalog.qualifications),
        "modes": dict(sorted(modes.items())),
    }
    if as_json:
        _print_json(summary)
        return
    console = Console()
    console.print(
        f"[green]OK[/green] {file} and {programmes}: {summary['mapping_ids']} mappings "
        f"({summary['mapping_versions']} versions), {summary['qualifications']} qualifications, "
        f"{summary['programmes']} programmes"
    )
    table = Table(title="Programmes")
    for column in ("programme", "title", "credits", "courses", "mappings", "caps"):
        table.add_column(column)
    for programme in catalog.programmes:
        caps = programme.caps
        cap_text = ", ".join(
            text
            for text in (
                f"≤{caps.max_recognised_credits} cr" if caps.max_recognised_credits else "",
                f"≤{caps.max_recognised_share:%} of total" if caps.max_recognised_share else "",
                f"≤{caps.max_certificates} certificates" if caps.max_certificates else "",
                "through-train block {:.0%}–{:.0%}".format(*caps.through_train_shares),
            )
            if text
        )
        table.add_row(
            programme.code,
            programme.title,
            format_decimal(programme.total_credits),
            str(len(programme.courses)),
            str(sum(1 for m in catalog.mappings if m.programme_code == programme.code)),
            cap_text,
        )
    console.print(table)
    modes_table = Table(title="Mapping versions by mode")
    modes_table.add_column("mode")
    modes_table.add_column("versions", justify="right")
    for mode, count in sorted(modes.items()):
        modes_table.add_row(mode, str(count))
    console.print(modes_table)


@map_app.command("show")
def show(
    code: Annotated[
        str, typer.Argument(help="An occupation code (6-18-02-04) or a course INSTITUTION:CODE.")
    ],
    level: Annotated[
        int | None, typer.Option("--level", help="Show conversions of a certificate at this level.")
    ] = None,
    programme: Annotated[
        str | None, typer.Option("--programme", help="Only this programme.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Only mapping versions in force on YYYY-MM-DD.")
    ] = None,
    map_file: MapFile = None,
    programmes: ProgrammesFile = None,
    as_json: AsJson = False,
) -> None:
    """What a qualification (or an external course) converts into, and through which mapping."""
    catalog = load_catalog(*_files(map_file, programmes))
    day = None if as_of is None else _date(as_of)
    if ":" in code or level is not None:
        conversions = _conversions(catalog, code, level, programme, day)
        if as_json:
            _print_json([_conversion_json(c) for c in conversions])
        else:
            _conversion_table(code, conversions)
        return
    mappings = [
        m
        for m in catalog.graph.mappings_of_qualification(code)
        if (programme is None or m.programme_code == programme)
        and (day is None or catalog.mapping_in_force(m.mapping_id, day) == m)
    ]
    if not mappings:
        raise NotFoundError(f"no mapping in the catalogue takes qualification {code}")
    if as_json:
        _print_json([m.to_json() for m in mappings])
        return
    name = next(q.name for q in catalog.qualifications if q.code == code)
    table = Table(title=f"{code} {name}: mappings")
    for column in (
        "mapping",
        "mode",
        "min level",
        "programme",
        "courses",
        "credits",
        "in force",
        "valid",
        "together with",
    ):
        table.add_column(column)
    for m in mappings:
        own = next(r for r in m.qualification_requirements if r.code == code)
        table.add_row(
            m.label,
            m.mode.value,
            str(own.min_level),
            m.programme_code,
            " ".join(t.course_code for t in m.targets),
            format_decimal(m.target_credits),
            f"{m.effective_from} – {m.effective_to or ''}",
            f"{m.valid_years} y" if m.valid_years else "no limit",
            _others(m, code),
        )
    Console().print(table)


def _conversions(
    catalog: Catalog, code: str, level: int | None, programme: str | None, day: date | None
) -> list[Conversion]:
    if ":" in code:
        institution, course_code = code.split(":", 1)
        found = catalog.graph.conversions_of_course(
            institution, course_code, programme_code=programme, as_of=day
        )
    else:
        if level is None:
            raise InputError("--level is needed to show what a certificate converts into")
        try:
            parse_level(level, "--level")
        except ValueError as exc:
            raise InputError(str(exc)) from exc
        found = catalog.graph.conversions_of_qualification(
            code, level, programme_code=programme, as_of=day
        )
    if not found:
        raise NotFoundError(f"{code} converts into nothing with these filters")
    return found


def _others(mapping: Mapping, code: str) -> str:
    return ", ".join(
        f"{r.code} L{r.min_level}"
        for r in mapping.qualification_requirements
        if isinstance(r, QualificationRequirement) and r.code != code
    )


def _conversion_json(conversion: Conversion) -> dict[str, Any]:
    return {
        "mapping_id": conversion.mapping.mapping_id,
        "version": conversion.mapping.version,
        "mode": conversion.mapping.mode.value,
        "programme_code": conversion.mapping.programme_code,
        "course_code": conversion.course.course_code,
        "course_title": conversion.course.title,
        "credits": format_decimal(conversion.course.credits),
        "also_requires": [r.code for r in conversion.also_requires],
        "path": [str(step) for step in conversion.path],
    }


def _conversion_table(code: str, conversions: list[Conversion]) -> None:
    table = Table(title=f"{code} converts into")
    for column in ("programme", "course", "title", "credits", "mapping", "mode", "path"):
        table.add_column(column)
    for c in conversions:
        table.add_row(
            c.mapping.programme_code,
            c.course.course_code,
            c.course.title,
            format_decimal(c.course.credits),
            c.mapping.label,
            c.mapping.mode.value,
            " → ".join(step.target for step in c.path[:-1]),
        )
    Console().print(table)


@app.command("plan")
def plan_command(
    holdings: Annotated[Path, typer.Option("--holdings", help="The holdings JSON file.")],
    programme: Annotated[str, typer.Option("--programme", help="Target programme code.")],
    as_of: AsOf = None,
    as_json: AsJson = False,
    map_file: MapFile = None,
    programmes: ProgrammesFile = None,
) -> None:
    """The most credit a worker's holdings earn toward a programme, course by course."""
    try:
        document = json.loads(holdings.read_text(encoding="utf-8"), parse_float=Decimal)
    except OSError as exc:
        raise HoldingsError(f"cannot read {holdings}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise HoldingsError(f"{holdings}: not JSON ({exc.msg} at line {exc.lineno})") from exc
    result = plan(
        load_catalog(*_files(map_file, programmes)),
        parse_holdings(document),
        programme,
        _date(as_of),
    )
    if as_json:
        _print_json(result.to_json())
    else:
        _plan_tables(result)


def _plan_tables(result: Plan) -> None:
    console = Console()
    table = Table(title=f"Recognised toward {result.programme_code} on {result.as_of}")
    for column in ("course", "title", "credits", "from", "mapping", "mode", "rule"):
        table.add_column(column)
    for r in result.recognitions:
        table.add_row(
            r.course.course_code,
            r.course.title,
            format_decimal(r.credits),
            " + ".join(r.source_holding_ids) + (" (what-if)" if r.what_if else ""),
            f"{r.mapping_id} v{r.version}",
            r.mode.value,
            r.rule,
        )
    console.print(table)
    if result.unused:
        unused = Table(title="Holdings not used")
        for column in ("holding", "reason", "why"):
            unused.add_column(column)
        for u in result.unused:
            unused.add_row(
                u.holding_id + (" (what-if)" if u.what_if else ""), u.reason.value, u.message
            )
        console.print(unused)
    caps = Table(title="Caps")
    for column in ("cap", "used", "limit", "reached"):
        caps.add_column(column)
    for cap in result.caps:
        caps.add_row(
            cap.name,
            format_decimal(cap.used),
            format_decimal(cap.limit),
            "yes" if cap.name in result.caps_reached else "no",
        )
    console.print(caps)
    console.print(
        f"New credits {format_decimal(result.new_credits)}"
        f" (of which what-if {format_decimal(result.what_if_credits)}), already recognised "
        f"{format_decimal(result.already_recognised)}, total {format_decimal(result.total_recognised)}"
        f" of {format_decimal(result.programme_credits)}; still missing "
        f"{format_decimal(result.credits_missing)} credits in {len(result.courses_missing)} courses: "
        + ", ".join(c.course_code for c in result.courses_missing)
    )
