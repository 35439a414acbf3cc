"""creditbank: a verifiable ledger of vocational certificates and course credits.

Layers (see docs/architecture.md): ``api`` and ``cli`` call ``accounts``, which calls ``mapping``
and ``ledger``. ``ledger`` is a reusable verifiable log and knows nothing of credits.
"""

__version__ = "0.1.0"
