"""How the command line prints what the server or the verifier answered: receipts and tables."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from creditbank.accounts.transcript import ProvenCredits
from creditbank.client import Receipt

__all__ = ["balance_tables", "print_json", "print_plan", "print_receipt", "proven_tables"]


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def print_receipt(receipt: Receipt, as_json: bool, created: dict[str, str] | None = None) -> None:
    """The receipt, after the ids the command made up (``created``): without them a person who
    let the command choose a certificate or conversion id could not revoke or reverse it later."""
    if as_json:
        typer.echo(
            json.dumps(
                {
                    **(created or {}),
                    "index": receipt.index,
                    "entry_type": receipt.entry_type,
                    "tree_size": receipt.tree_size,
                    "consequences": list(receipt.consequences),
                    "replayed": receipt.replayed,
                }
            )
        )
        return
    for name, value in (created or {}).items():
        typer.echo(f"{name}: {value}")
    again = " (already in the log: this is the original receipt)" if receipt.replayed else ""
    typer.echo(
        f"{receipt.entry_type} appended at index {receipt.index}, tree size {receipt.tree_size}"
        + again
    )
    for index in receipt.consequences:
        typer.echo(f"  consequence: conversion reversed at index {index}")


def _named(code: str, name: str | None) -> str:
    return f"{code} {name}" if name else code


def balance_tables(balance: dict[str, Any]) -> list[Table]:
    """Certificates, earned credits (available vs used) and recognised credits, names by codes."""
    certificates = Table(title="Certificates 证书", title_justify="left")
    for column in (
        "certificate",
        "qualification",
        "level",
        "issued",
        "provider",
        "index",
        "status",
    ):
        certificates.add_column(column)
    for c in balance["certificates"]:
        status = "revoked" if c["revoked"] else ("used" if c.get("used") else "available")
        certificates.add_row(
            c["certificate_id"],
            _named(c["qualification_code"], c.get("qualification_name")),
            str(c["level"]),
            c["issued_on"],
            c["provider"],
            str(c["index"]),
            status,
        )
    credits = Table(
        title=(
            f"Earned credits 已获学分: available {balance.get('available_credits', '?')}, "
            f"used in conversions {balance.get('used_credits', '?')}"
        ),
        title_justify="left",
    )
    for column in ("credit", "course", "credits", "grade", "earned", "index", "status"):
        credits.add_column(column)
    for c in balance["credits_earned"]:
        credits.add_row(
            c["credit_id"],
            _named(f"{c['institution']}:{c['course_code']}", c.get("course_title")),
            c["credits"],
            str(c["grade"]),
            c["earned_on"],
            str(c["index"]),
            "used" if c.get("used") else "available",
        )
    recognised = Table(
        title=f"Recognised credits 认定学分: {balance['total_recognised']}", title_justify="left"
    )
    for column in ("programme", "course", "credits", "mode", "mapping", "conversion", "index"):
        recognised.add_column(column)
    for programme in balance["programmes"]:
        for item in programme["items"]:
            recognised.add_row(
                programme["programme_code"],
                _named(item["course_code"], item.get("course_title")),
                item["credits"],
                item["mode"],
                item["mapping_id"],
                item["conversion_id"],
                str(item["index"]),
            )
    return [certificates, credits, recognised]


def proven_tables(proven: ProvenCredits) -> list[Table]:
    certificates = Table(title="Certificates proven", title_justify="left")
    for column in ("certificate", "qualification", "level", "issued", "index", "revoked"):
        certificates.add_column(column)
    for c in proven.certificates:
        certificates.add_row(
            str(c["certificate_id"]),
            str(c["qualification_code"]),
            str(c["level"]),
            str(c["issued_on"]),
            str(c["index"]),
            "yes" if c["revoked"] else "",
        )
    credits = Table(title="Credits earned proven", title_justify="left")
    for column in ("credit", "course", "credits", "grade", "index"):
        credits.add_column(column)
    for c in proven.credits_earned:
        credits.add_row(
            str(c["credit_id"]),
            f"{c['institution']}:{c['course_code']}",
            str(c["credits"]),
            str(c["grade"]),
            str(c["index"]),
        )
    recognised = Table(
        title=f"Recognised credits proven: {proven.total_recognised}", title_justify="left"
    )
    recognised.add_column("programme")
    recognised.add_column("credits")
    for programme, total in sorted(proven.recognised.items()):
        recognised.add_row(programme, str(total))
    return [certificates, credits, recognised]


def print_plan(proposed: dict[str, Any]) -> None:
    console = Console()
    table = Table(
        title=(
            f"{proposed['programme_code']} on {proposed['as_of']}: {proposed['new_credits']} new "
            f"credits ({proposed['total_recognised']} of {proposed['programme_credits']} recognised)"
        ),
        title_justify="left",
    )
    for column in ("course", "credits", "mode", "mapping", "sources"):
        table.add_column(column)
    for r in proposed["recognitions"]:
        table.add_row(
            r["course_code"],
            r["credits"],
            r["mode"],
            r["mapping_id"],
            " ".join(r["source_holding_ids"]),
        )
    console.print(table)
    for unused in proposed["unused"]:
        console.print(f"unused {unused['holding_id']}: {unused['message']}", highlight=False)
