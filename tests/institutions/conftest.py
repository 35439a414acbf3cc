"""The API tests' demo world (real database, real HTTP) for the institutions tests."""

from tests.api.conftest import http, sqlite_http, sqlite_world, world

__all__ = ["http", "sqlite_http", "sqlite_world", "world"]
