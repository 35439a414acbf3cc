"""Alembic migrations for the whole database: the log's tables and the read models."""
