"""The repository stands on its own: links resolve, help text is clean (issue 9 items 15, 17)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from creditbank.cli import app

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: ``[text](target)``; the target ends at whitespace or the closing parenthesis.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
#: A path in backticks that names a document of the repository, e.g. `docs/api.md`.
DOC_PATH = re.compile(
    r"`((?:\.\./|docs/|tests/|bench/|creditbank/|data/)[^`*…\s]+\.(?:md|py|csv))`"
)


def _relative_targets(document: Path) -> list[str]:
    text = document.read_text("utf-8")
    targets = [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t) and t[0] != "#"]
    return targets + DOC_PATH.findall(text)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_issue9_item15_every_relative_link_resolves(document: Path) -> None:
    broken = []
    for target in _relative_targets(document):
        path = target.split("#", 1)[0]
        base = ROOT if DOC_PATH.fullmatch(f"`{target}`") and not path.startswith("..") else None
        resolved = ((base or document.parent) / path).resolve()
        if not resolved.exists() or ROOT not in resolved.parents:
            broken.append(target)
    assert not broken, f"{document.name}: links that do not resolve inside the repository: {broken}"


def test_issue9_item15_no_reference_outside_the_repository() -> None:
    for document in DOCUMENTS:
        text = document.read_text("utf-8")
        assert "../shared" not in text and "BRIEF.md" not in text, document.name
    assert (ROOT / "docs" / "domain.md").exists()


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    if hasattr(group, "commands"):
        for name, sub in group.commands.items():
            found += _commands(sub, (*prefix, name))
    return found


def test_issue9_item17_help_has_no_stray_type_tags() -> None:
    """Every command's --help: no ``<bool>``/``<str>``/``<path>`` tags, no ``{file}`` arguments."""
    runner = CliRunner()
    commands = _commands(get_command(app))
    assert len(commands) > 25
    for words in commands:
        result = runner.invoke(app, [*words, "--help"], env={"COLUMNS": "100"})
        assert result.exit_code == 0, (words, result.output)
        stray = re.findall(
            r"<(?:bool|str|int|path|float|text)>|\{[a-z_]+\}|\{[A-Z_]+\}", result.output
        )
        assert not stray, (words, stray, result.output)
