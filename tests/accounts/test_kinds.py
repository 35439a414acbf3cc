"""The entry-kind registry: every kind has every part, and the write routes and the client agree
with it (a new kind without a route, a projection or a schema fails here)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

from fastapi.routing import APIRoute

from creditbank.accounts.kinds import KINDS, Body, Kind
from creditbank.accounts.kinds.base import no_cascade
from creditbank.api import routes as routes_package
from creditbank.client import CreditbankClient

_TYPE = re.compile(r"[a-z][a-z_]*\.[a-z][a-z_]*")


def _write_routes() -> dict[str, APIRoute]:
    """Every POST route of the API's route modules, by path."""
    found: dict[str, APIRoute] = {}
    for info in pkgutil.iter_modules(routes_package.__path__):
        module = importlib.import_module(f"{routes_package.__name__}.{info.name}")
        router = getattr(module, "router", None)
        for route in getattr(router, "routes", ()):
            if isinstance(route, APIRoute) and "POST" in route.methods:
                found[route.path] = route
    return found


def test_every_kind_has_every_part() -> None:
    assert KINDS, "the registry lists no kinds"
    for entry_type, kind in KINDS.items():
        assert isinstance(kind, Kind)
        assert kind.entry_type == entry_type and _TYPE.fullmatch(entry_type)
        assert issubclass(kind.body, Body) and kind.body is not Body, entry_type
        assert kind.body.model_config.get("extra") == "forbid", entry_type
        assert kind.signers and set(kind.signers) <= {"system", "admin", "provider", "registrar"}
        assert callable(kind.admit) and callable(kind.project), entry_type
        assert callable(kind.learner_of) and callable(kind.cascade), entry_type
        assert len(inspect.signature(kind.admit).parameters) == 3, entry_type
        assert (kind.poster is None) == (kind.route is None), entry_type
        if kind.poster is not None:
            assert kind.poster in kind.signers, entry_type
        module = inspect.getmodule(kind.admit)
        assert module is not None and module.__name__.endswith(entry_type.replace(".", "_"))
        assert module.__doc__, f"{entry_type}: its module says what the kind is for"


def test_each_write_route_is_the_one_its_kind_names() -> None:
    routes = _write_routes()
    for kind in KINDS.values():
        if kind.route is None:
            continue
        route = routes.get(kind.route)
        assert route is not None, f"{kind.entry_type}: no POST {kind.route}"
        source = inspect.getsource(route.endpoint)
        assert f'KINDS["{kind.entry_type}"]' in source, (kind.entry_type, kind.route)
        params = set(re.findall(r"{(\w+)}", kind.route))
        assert params == set(kind.path_fields)
    # and no write route posts a kind the registry does not know
    for path, route in routes.items():
        for named in re.findall(r'KINDS\["([a-z_.]+)"\]', inspect.getsource(route.endpoint)):
            assert named in KINDS and KINDS[named].route == path


def test_the_client_has_a_write_for_every_postable_kind() -> None:
    # The client is made of parts (mixins): the source of each of them.
    source = "".join(
        inspect.getsource(part)
        for part in CreditbankClient.__mro__
        if part.__module__.startswith("creditbank.client")
    )
    for kind in KINDS.values():
        if kind.poster is not None:
            assert f'"{kind.entry_type}"' in source, f"the client cannot post {kind.entry_type}"


def test_cascading_kinds_are_the_withdrawals() -> None:
    cascading = {t for t, k in KINDS.items() if k.cascade is not no_cascade}
    assert cascading == {"certificate.revoked", "conversion.reversed"}
