"""Translations from gettext catalogs (``locale/<lang>/LC_MESSAGES/messages.po``).

Source strings are English; ``zh_CN`` (the default language) translates every one of them, and a
test fails when a string the templates or the web code use has no Chinese translation. The ``.po``
files are read with Babel when the app starts, so there is no compile step and no binary ``.mo``
file in the repository.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

from creditbank.web.config import LANGUAGES

__all__ = ["LOCALE_DIR", "Translations", "html_lang", "load_translations"]

LOCALE_DIR = Path(__file__).resolve().parent / "locale"


@dataclass(frozen=True)
class Translations:
    """One language: ``gettext`` returns the translation, or the English source when missing."""

    language: str
    messages: Mapping[str, str]

    def gettext(self, message: str) -> str:
        return self.messages.get(message) or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


def _read(language: str) -> dict[str, str]:
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy and isinstance(message.id, str)
    }


def load_translations() -> dict[str, Translations]:
    return {language: Translations(language, _read(language)) for language in LANGUAGES}


def html_lang(language: str) -> str:
    """The BCP 47 tag for ``<html lang>`` (``zh_CN`` -> ``zh-CN``)."""
    return language.replace("_", "-")
