"""A conversion plan as the pages show it: the planner's sentences in the page's language.

The planner says why in :class:`~creditbank.mapping.wording.Wording` values (an English template
as the message id, and parameters); the API and the CLI print the English. Here each template,
and each template nested in it, goes through the page's gettext catalog before the parameters
are filled in, so the plan page and the worker's what-if read in Chinese where the catalog has
the sentence (and in English, as the API says it, where it has not: the catalog test fails then).
"""

from __future__ import annotations

from typing import Any

from creditbank.mapping import Plan
from creditbank.web.i18n import Translations

__all__ = ["plan_json"]


def plan_json(plan: Plan, translations: Translations) -> dict[str, Any]:
    """``plan.to_json()`` with every explanation and why-not translated."""
    out = plan.to_json()
    for shown, recognition in zip(out["recognitions"], plan.recognitions, strict=True):
        shown["explanation"] = recognition.wording.render(translations.gettext)
    for shown, unused in zip(out["unused"], plan.unused, strict=True):
        shown["message"] = unused.wording.render(translations.gettext)
    return out
