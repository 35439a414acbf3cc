"""The value types entry bodies are made of: strict, ASCII, and bounded.

Every field of every body has a documented range, checked when the body is parsed (a 422 naming the
field), so that nothing admitted to the log can later make a read fail:

* identifiers: 1-128 of ``A-Z a-z 0-9 _ . : -``, starting with a letter or digit;
* whole numbers are JSON integers (never ``"3"`` or ``true``), each with its own range;
* dates are ``YYYY-MM-DD`` strings of ASCII digits between :data:`MIN_DAY` and :data:`MAX_DAY`;
* credits are decimal strings of one ASCII grammar, ``(0|[1-9][0-9]{0,3})(\\.[0-9]{1,2})?``,
  positive (``"2"``, ``"2.5"``): no Arabic-Indic or full-width digits, no whitespace, no sign;
* free text exists only where a person's words are the point (an actor's name); reasons for a
  revocation, reversal or retirement are codes from :data:`REASON_CODES`.

Bodies refuse unknown fields (``extra="forbid"``) and carry ``v``, their schema version.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from creditbank.errors import CreditbankError, EntryFormatError
from creditbank.ledger.entry import public_key_from_b64

__all__ = [
    "MAX_DAY",
    "MIN_DAY",
    "KEY_RECOVERY_REASONS",
    "REASON_CODES",
    "Body",
    "Credits",
    "Day",
    "Identifier",
    "Level",
    "PublicKey",
    "SourceId",
    "check_reason",
    "day_of",
    "parse_credits",
]

#: Dates in bodies lie in this range: far enough from 9999-12-31 that any validity period added
#: to them stays a date (a certificate from before 1949 is a typo).
MIN_DAY = date(1949, 10, 1)
MAX_DAY = date(2999, 12, 31)

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
_CREDITS = re.compile(r"(0|[1-9][0-9]{0,3})(\.[0-9]{1,2})?")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_B64_KEY = re.compile(r"[A-Za-z0-9+/]{43}=")

Identifier = Annotated[str, Field(pattern=_ID)]
#: A holding used as a source: a certificate or credit id, or ``conversion_id/course_code`` for a
#: course another conversion recognised.
SourceId = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}(/[A-Za-z0-9._-]{1,32})?$")
]
#: A certificate level, 1 (高级技师, highest) to 5 (初级工); a JSON integer.
Level = Annotated[StrictInt, Field(ge=1, le=5)]


def parse_credits(value: Any) -> Decimal:
    """Credits as the one ASCII decimal grammar allows them; ``ValueError`` otherwise."""
    if not isinstance(value, str) or not _CREDITS.fullmatch(value):
        raise ValueError(
            "credits must be a decimal string of ASCII digits like '2' or '2.5' "
            "(0-9999, at most 2 places)"
        )
    amount = Decimal(value)
    if amount <= 0:
        raise ValueError("credits must be positive")
    return amount


def _credits(value: Any) -> str:
    parse_credits(value)
    return str(value)


#: Credits: a positive decimal string of ASCII digits, at most 9999.99.
Credits = Annotated[str, BeforeValidator(_credits)]


def day_of(value: Any) -> date:
    """A day as :data:`Day` accepts it; ``ValueError`` otherwise."""
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD with ASCII digits")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value} is not a real date") from None
    if not MIN_DAY <= day <= MAX_DAY:
        raise ValueError(f"must be between {MIN_DAY} and {MAX_DAY}")
    return day


#: A day: ``YYYY-MM-DD``, ASCII digits, between :data:`MIN_DAY` and :data:`MAX_DAY`.
Day = Annotated[date, BeforeValidator(day_of)]


def _public_key(value: Any) -> str:
    # 32 bytes of base64 is exactly 43 characters and one '=' whose last character carries no
    # stray bits; anything else ("=" * 44, "!" * 44) is not a key.
    if not isinstance(value, str) or not _B64_KEY.fullmatch(value):
        raise ValueError("must be a raw 32-byte Ed25519 public key in base64 (44 characters)")
    try:
        public_key_from_b64(value)
    except (CreditbankError, ValueError):
        raise ValueError("is not a valid Ed25519 public key") from None
    return value


#: An Ed25519 public key, raw 32 bytes in standard base64.
PublicKey = Annotated[str, AfterValidator(_public_key)]

#: Why something was revoked, reversed or retired: a closed set, so no free text (names, ID
#: numbers) can ever enter the immutable log through a reason. Labels: Chinese, then English.
REASON_CODES: dict[str, tuple[str, str]] = {
    "entered-in-error": ("录入错误", "entered in error"),
    "wrong-learner": ("记入了错误的学员", "recorded for the wrong learner"),
    "fraud": ("欺诈或伪造", "fraud or forgery"),
    "withdrawn-by-issuer": ("发证机构撤回", "withdrawn by the issuer"),
    "superseded": ("已被新记录取代", "superseded by a newer record"),
    "source-withdrawn": ("所依据的来源已撤销", "a source it used was withdrawn"),
    "other": ("其他原因", "another reason"),
}


#: Why an admin recovers an actor's keys (``actor.key_recovered``): a closed set of its own, so
#: these codes never appear among the reasons for revoking a certificate or reversing a conversion.
KEY_RECOVERY_REASONS: dict[str, tuple[str, str]] = {
    "keys-lost": ("全部密钥丢失", "every key was lost"),
    "keys-compromised": ("密钥已泄露，需要更换", "the keys were compromised and must be replaced"),
    "holder-changed": ("密钥保管人变更且无法交接", "the key holder left and could not hand over"),
}


def check_reason(value: str) -> None:
    """Refuse a reason that is not one of :data:`REASON_CODES` (422 naming the field)."""
    if value not in REASON_CODES:
        codes = ", ".join(REASON_CODES)
        raise EntryFormatError(f"body.reason must be one of the reason codes ({codes})")


def _version(value: Any) -> Any:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("v must be the JSON integer 1")
    return value


class Body(BaseModel):
    """Base of every entry body: unknown fields refused, immutable, versioned."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    v: Annotated[Literal[1], BeforeValidator(_version)] = 1
