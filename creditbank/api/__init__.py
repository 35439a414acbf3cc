"""The HTTP API (FastAPI): thin routes over :class:`creditbank.accounts.bank.CreditBank`.

:func:`create_app` builds the app over a bank you pass in; :func:`create_app_from_settings` opens the
bank named by the environment (``creditbank serve``). Routes, roles, problem types and idempotency
are described in ``docs/api.md``.
"""

from creditbank.api.app import create_app, create_app_from_settings
from creditbank.api.config import ApiConfig

__all__ = ["ApiConfig", "create_app", "create_app_from_settings"]
