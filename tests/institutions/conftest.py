"""The API tests' demo world (real database, real HTTP) for the institutions tests."""

from tests.api.conftest import sqlite_http, sqlite_world

__all__ = ["sqlite_http", "sqlite_world"]
