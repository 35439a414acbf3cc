"""``creditbank demo``: a small, real credit bank on SQLite, served over HTTP.

:func:`build_demo` creates, in a data directory:

* ``creditbank.db``: a SQLite ledger with the log key's verifier on record and the genesis entries;
* ``keys/``: one Ed25519 key per actor (0600, unencrypted: this is a demo), and the log key;
* every training provider of the shipped qualification map registered as an actor, and its
  mappings registered as signed ``mapping.registered`` entries (one batch per provider);
* a registrar, three learners with certificates and earned credits, a ``through_train``
  conversion, a ``certificate_recognition`` conversion (each exactly what the planner proposed),
  and one conversion reversed;
* ``demo-credentials.json``: the base URL and a bearer token for every actor and learner.

Everything goes through :meth:`CreditBank.submit_many`, the same write path the API uses; nothing
is written to the database behind the ledger's back. Running the demo again on the same directory
serves the existing ledger.
"""

from creditbank.demo.seed import build_demo
from creditbank.demo.serve import next_steps, open_demo, sign_in_links
from creditbank.demo.setup import (
    CREDENTIALS_FILE,
    DEMO_ORIGIN,
    DemoActor,
    DemoLearner,
    DemoSetup,
)

__all__ = [
    "CREDENTIALS_FILE",
    "DEMO_ORIGIN",
    "DemoActor",
    "DemoLearner",
    "DemoSetup",
    "build_demo",
    "next_steps",
    "open_demo",
    "sign_in_links",
]
