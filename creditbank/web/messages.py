"""Which strings the web app shows: extracted from its templates and code with Babel.

Besides the web package's own ``_()`` strings, the planner's and the rules' sentences
(``wording("...")`` and ``joined("...")`` in ``creditbank/mapping``, see
:mod:`creditbank.mapping.wording`) are shown on the plan and worker pages, so they are extracted
too.

Used by the translation test (every string must have a Chinese translation) and to refresh the
catalogs: ``python -m creditbank.web.messages`` prints the ``msgid``s missing from ``zh_CN``.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from creditbank.web.i18n import LOCALE_DIR, load_translations

__all__ = ["missing_translations", "used_messages"]

_ROOT = Path(__file__).resolve().parent
_MAPPING = _ROOT.parent / "mapping"
_METHODS = [("templates/**.html", "jinja2"), ("**.py", "python")]
_OPTIONS = {"templates/**.html": {"extensions": "", "trimmed": "true"}}


def used_messages() -> set[str]:
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        _ROOT, _METHODS, keywords={"_": None, "gettext": None}, options_map=_OPTIONS
    ):
        if isinstance(message, str) and message:
            found.add(message)
    for _file, _line, message, _comments, _context in extract_from_dir(
        _MAPPING, [("**.py", "python")], keywords={"wording": None, "joined": None}
    ):
        if isinstance(message, str) and message:
            found.add(message)
    return found


def missing_translations(language: str = "zh_CN") -> list[str]:
    catalog = load_translations()[language].messages
    return sorted(message for message in used_messages() if message not in catalog)


if __name__ == "__main__":  # pragma: no cover
    for text in missing_translations():
        print(text)
    print(f"catalogs: {LOCALE_DIR}")
