"""The verifiable log, reusable on its own: signed entries in an RFC 9162 tree, signed checkpoints.

This is the front door. Code outside the ledger imports the log's parts from here (or from the
pure modules :mod:`~creditbank.ledger.entry`, :mod:`~creditbank.ledger.checkpoint`,
:mod:`~creditbank.ledger.merkle`, :mod:`~creditbank.ledger.canonical`); the SQL backend's internals
(:mod:`creditbank.ledger.sql`: tables, raw statements) are the ledger's own, and an import-linter
contract keeps every other package out of them.
"""

from creditbank.ledger.audit import AuditReport, audit_log
from creditbank.ledger.checkpoint import Checkpoint, NoteSigner, NoteVerifier
from creditbank.ledger.database import make_engine
from creditbank.ledger.entry import Entry, Leaf, SignedEntry, sign_entry
from creditbank.ledger.log import Appended, AppendResult, Batch, Log
from creditbank.ledger.memory import MemoryLogStore
from creditbank.ledger.sql import (
    APPEND_ONLY_TABLES,
    SqlLogStore,
    SqlTransaction,
    append_only_trigger_sql,
    create_log_schema,
    install_append_only_triggers,
)
from creditbank.ledger.store import LeafRow, LogStore, LogTransaction, StoredCheckpoint

__all__ = [
    "APPEND_ONLY_TABLES",
    "AppendResult",
    "Appended",
    "AuditReport",
    "Batch",
    "Checkpoint",
    "Entry",
    "Leaf",
    "LeafRow",
    "Log",
    "LogStore",
    "LogTransaction",
    "MemoryLogStore",
    "NoteSigner",
    "NoteVerifier",
    "SignedEntry",
    "SqlLogStore",
    "SqlTransaction",
    "StoredCheckpoint",
    "append_only_trigger_sql",
    "audit_log",
    "create_log_schema",
    "install_append_only_triggers",
    "make_engine",
    "sign_entry",
]
