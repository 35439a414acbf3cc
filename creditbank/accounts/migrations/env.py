"""Alembic environment: always run with a connection handed in by :mod:`creditbank.accounts.migrate`."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import creditbank.accounts.admin_audit  # noqa: F401  (the admins' audit table)
import creditbank.accounts.identity_vault  # noqa: F401  (sealed identities)
import creditbank.accounts.tables
import creditbank.accounts.web_tables  # noqa: F401  (web sessions and sign-in codes)
import creditbank.ledger  # noqa: F401  (registers the log's tables on the metadata)

_ = creditbank.accounts.tables
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `creditbank db upgrade` (it passes a connection)")
context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
