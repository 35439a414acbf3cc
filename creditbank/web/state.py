"""What every page needs, built once per app by :func:`creditbank.web.install_web`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from creditbank.accounts.bank import CreditBank
from creditbank.ledger.entry import parse_time
from creditbank.web.config import WebConfig
from creditbank.web.i18n import Translations, load_translations
from creditbank.web.sessions import SessionStore, SignInCodes
from creditbank.web.signin import TokenSignIn

__all__ = ["STATIC_DIR", "TEMPLATE_DIR", "WebState"]

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"


@dataclass
class WebState:
    bank: CreditBank
    config: WebConfig
    translations: dict[str, Translations]
    sessions: SessionStore
    codes: SignInCodes
    signin: TokenSignIn
    templates: Environment

    @classmethod
    def build(cls, bank: CreditBank, config: WebConfig) -> WebState:
        templates = Environment(
            loader=FileSystemLoader(TEMPLATE_DIR),
            autoescape=select_autoescape(["html"]),
            auto_reload=False,
        )
        state = cls(
            bank=bank,
            config=config,
            translations=load_translations(),
            sessions=SessionStore(bank.engine, bank.clock, config.session_lifetime),
            codes=SignInCodes(bank.engine, bank.clock, config.link_lifetime),
            signin=TokenSignIn(bank),
            templates=templates,
        )
        templates.filters["local_time"] = state.local_time
        return state

    def now(self) -> datetime:
        return self.bank.clock().astimezone(self.config.zone)

    def today(self) -> date:
        """Today in the configured time zone (day boundaries are local, not UTC)."""
        return self.now().date()

    def local_time(self, stamp: str | None) -> str:
        """An RFC 3339 UTC stamp of the log, shown in the configured time zone."""
        if not stamp:
            return ""
        moment = parse_time(stamp).astimezone(self.config.zone)
        return moment.strftime("%Y-%m-%d %H:%M")
