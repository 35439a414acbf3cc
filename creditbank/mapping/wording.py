"""Sentences the planner and the rules say, as a message id and its parameters.

The API and the CLI print the English sentence (:attr:`Wording.text`), unchanged; the web pages
translate the same message id through their gettext catalog and fill in the parameters, so a
registrar reading Chinese sees the planner's explanation and every why-not in Chinese. The message
id is the English template itself (gettext's convention: the source string is the stable key);
changing a template's words changes its id, which the catalog test then reports as untranslated.
This module knows nothing of languages or catalogs: the mapping layer stays free of the web's.

Every template is written as ``wording("... {name} ...", name=value)`` (or ``joined(...)``) with a
plain string literal as its first argument, so Babel's extractor finds it
(``creditbank.web.messages``). A parameter may itself be a :class:`Wording` (a sentence inside a
sentence, translated the same way); ``joined`` folds a list into nested two-part sentences, so
"A and B and C" is translated as the template "{first} and {second}".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Wording", "joined", "wording"]


def _same(template: str) -> str:
    return template


@dataclass(frozen=True)
class Wording:
    """One sentence: an English ``template`` with ``{name}`` fields and their values."""

    template: str
    params: tuple[tuple[str, str | Wording], ...] = ()

    @property
    def text(self) -> str:
        """The English sentence (what the API and the CLI show)."""
        return self.render()

    def render(self, translate: Callable[[str], str] = _same) -> str:
        """The sentence with every template (this one and nested ones) passed through
        ``translate`` first, e.g. a gettext catalog's ``gettext``."""
        values = {
            name: value.render(translate) if isinstance(value, Wording) else value
            for name, value in self.params
        }
        return translate(self.template).format_map(values)


def wording(template: str, **params: Any) -> Wording:
    """A sentence; parameters that are not sentences become strings now (ISO dates, decimals)."""
    return Wording(
        template,
        tuple(
            (name, value if isinstance(value, Wording) else str(value))
            for name, value in params.items()
        ),
    )


def joined(template: str, items: Sequence[Wording | str]) -> Wording:
    """``items`` folded left with ``template`` (fields ``{first}`` and ``{second}``)."""
    if not items:
        raise ValueError("nothing to join")
    first = items[0]
    result = first if isinstance(first, Wording) else Wording("{item}", (("item", first),))
    for item in items[1:]:
        result = wording(template, first=result, second=item)
    return result
