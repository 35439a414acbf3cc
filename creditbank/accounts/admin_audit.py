"""The admins' trace: who issued or revoked a token, and who read a learner's account as admin.

Tokens are not ledger entries (they are credentials, revocable and off the log), so the log does not
record them. This table does: one row per action, append-only (the database refuses UPDATE and
DELETE, as it does on the log's tables), readable by admins through ``GET /v1/admin/audit``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel import Field, Session, SQLModel, col, func, select

from creditbank.ledger.entry import format_time

__all__ = [
    "AUDIT_TRIGGERS",
    "Action",
    "AdminAuditRow",
    "AuditEvent",
    "audit_count",
    "audit_events",
    "audit_trigger_sql",
    "record_action",
]

Action = Literal["token.issued", "token.revoked", "learner.read", "learner.searched"]


class AdminAuditRow(SQLModel, table=True):
    """One admin action. ``by`` is the acting actor (or ``learner:<id>`` / ``system``)."""

    __tablename__ = "admin_audit"

    seq: int | None = Field(default=None, primary_key=True)
    at: str = Field(max_length=32)
    by: str = Field(index=True, max_length=140)
    role: str = Field(max_length=16)
    action: str = Field(max_length=32)
    #: What it acted on: a token id (SHA-256 hex) or a learner id.
    subject: str = Field(index=True, max_length=128)
    #: For token.issued: the role and holder the token was bound to (never the token).
    detail: str = Field(default="", max_length=300)


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    at: str
    by: str
    role: str
    action: str
    subject: str
    detail: str


def record_action(
    session: Session,
    *,
    now: datetime,
    by: str,
    role: str,
    action: Action,
    subject: str,
    detail: str = "",
) -> None:
    """Add one row in the caller's transaction (so the action and its trace commit together)."""
    session.add(
        AdminAuditRow(
            at=format_time(now), by=by, role=role, action=action, subject=subject, detail=detail
        )
    )


def audit_events(
    session: Session, *, offset: int = 0, limit: int = 100, newest_first: bool = False
) -> list[AuditEvent]:
    """Oldest first (the API's order), or newest first (the admin page's)."""
    order = col(AdminAuditRow.seq).desc() if newest_first else col(AdminAuditRow.seq)
    rows = session.exec(select(AdminAuditRow).order_by(order).offset(offset).limit(limit))
    return [AuditEvent(r.seq or 0, r.at, r.by, r.role, r.action, r.subject, r.detail) for r in rows]


def audit_count(session: Session) -> int:
    """How many rows the table holds (to page through it)."""
    return session.exec(select(func.count()).select_from(AdminAuditRow)).one()


AUDIT_TRIGGERS = ("admin_audit",)


def audit_trigger_sql(dialect: str) -> list[str]:
    """The same append-only triggers as the log's tables (the PostgreSQL function is the log's)."""
    table = "admin_audit"
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} BEGIN "
            f"SELECT RAISE(ABORT, 'creditbank: {table} is append-only'); END"
            for op in ("UPDATE", "DELETE")
        ]
    return [
        f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION creditbank_append_only()",
        f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION creditbank_append_only()",
    ]
