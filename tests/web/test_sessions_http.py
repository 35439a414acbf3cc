"""Sign-in, sessions, one-time links and CSRF over real HTTP (no browser needed)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy import select

from creditbank.accounts.web_tables import SIGNIN_CODES, WEB_SESSIONS
from creditbank.web import signin_link
from tests.web.conftest import LiveDemo


def _csrf(client: httpx.Client, path: str = "/sign-in") -> str:
    page = client.get(path)
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


@contextmanager
def _signed_in(live: LiveDemo, token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        answer = client.post("/sign-in", data={"token": token, "csrf_token": _csrf(client)})
        assert answer.status_code == 303, answer.text
        yield client


def test_session_cookie_is_httponly_strict_and_only_its_hash_is_stored(live: LiveDemo) -> None:
    learner = live.setup.learners[0]
    with httpx.Client(base_url=live.url, timeout=30) as client:
        csrf = _csrf(client)
        answer = client.post("/sign-in", data={"token": learner.token, "csrf_token": csrf})
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/learners/{learner.learner_id}"
        cookie = next(
            c for c in answer.headers.get_list("set-cookie") if c.startswith("cb_session=")
        )
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
        session_id = cookie.split(";")[0].split("=", 1)[1]
        with live.bank.engine.connect() as conn:
            stored = set(conn.execute(select(WEB_SESSIONS.c.session_hash)).scalars())
        assert session_id not in stored and len(stored) >= 1
        assert client.get(f"/learners/{learner.learner_id}").status_code == 200


def test_a_bad_token_is_refused_and_opens_no_session(live: LiveDemo) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        answer = client.post("/sign-in", data={"token": "cbt_nope", "csrf_token": _csrf(client)})
        assert answer.status_code == 401
        assert "cb_session" not in answer.headers.get("set-cookie", "")


def test_a_form_post_without_the_csrf_pair_or_from_another_origin_is_refused(
    live: LiveDemo,
) -> None:
    token = live.setup.learners[0].token
    with httpx.Client(base_url=live.url, timeout=30) as client:
        csrf = _csrf(client)
        assert client.post("/sign-in", data={"token": token}).status_code == 403
        assert (
            client.post("/sign-in", data={"token": token, "csrf_token": "x" * 43}).status_code
            == 403
        )
        foreign = client.post(
            "/sign-in",
            data={"token": token, "csrf_token": csrf},
            headers={"Origin": "https://evil.example"},
        )
        assert foreign.status_code == 403
    # Without the cookie (what a cross-site post looks like under SameSite=Strict):
    bare = httpx.post(f"{live.url}/sign-in", data={"token": token, "csrf_token": csrf})
    assert bare.status_code == 403


def test_sign_out_everywhere_ends_every_session_of_that_learner(live: LiveDemo) -> None:
    learner = live.setup.learners[1]
    page = f"/learners/{learner.learner_id}"
    with _signed_in(live, learner.token) as first, _signed_in(live, learner.token) as second:
        assert first.get(page).status_code == second.get(page).status_code == 200
        csrf = _csrf(first, "/")
        signed_out = first.post("/sign-out", data={"csrf_token": csrf, "everywhere": "1"})
        assert signed_out.status_code == 303
        assert first.get(page).status_code == 404
        assert second.get(page).status_code == 404


def test_a_sign_in_link_works_once_and_never_carries_the_token(live: LiveDemo) -> None:
    learner = live.setup.learners[2]
    link = signin_link(live.bank, learner.token, live.url)
    assert learner.token not in link and link.startswith(f"{live.url}/sign-in/link/")
    code = link.rsplit("/", 1)[1]
    with live.bank.engine.connect() as conn:
        hashes = set(conn.execute(select(SIGNIN_CODES.c.code_hash)).scalars())
    assert code not in hashes
    with httpx.Client(base_url=live.url, timeout=30) as client:
        path = link.removeprefix(live.url)
        csrf = _csrf(client, path)  # opening the link spends nothing
        answer = client.post(path, data={"csrf_token": csrf})
        assert answer.status_code == 303
        assert client.get(f"/learners/{learner.learner_id}").status_code == 200
    with httpx.Client(base_url=live.url, timeout=30) as other:
        again = other.post(path, data={"csrf_token": _csrf(other, path)})
        assert again.status_code == 401


def test_an_expired_sign_in_link_is_refused(live: LiveDemo) -> None:
    link = signin_link(live.bank, live.setup.learners[0].token, live.url)
    path = link.removeprefix(live.url)
    from creditbank.web.sessions import digest

    with live.bank.engine.begin() as conn:  # behind the code's back: the link is 16 minutes old
        conn.execute(
            SIGNIN_CODES.update()
            .where(SIGNIN_CODES.c.code_hash == digest(path.rsplit("/", 1)[1]))
            .values(expires_at="2000-01-01T00:00:00.000000Z")
        )
    with httpx.Client(base_url=live.url, timeout=30) as client:
        assert client.post(path, data={"csrf_token": _csrf(client, path)}).status_code == 401


def test_another_learners_page_is_the_404_page(live: LiveDemo) -> None:
    mine, theirs = live.setup.learners[0], live.setup.learners[1]
    with _signed_in(live, mine.token) as client:
        answer = client.get(f"/learners/{theirs.learner_id}")
        assert answer.status_code == 404
        unknown = client.get("/learners/L-does-not-exist").text
        assert answer.text.replace(theirs.learner_id, "L-does-not-exist") == unknown
    with _signed_in(live, live.setup.providers[0].token) as provider:
        assert provider.get(f"/learners/{mine.learner_id}").status_code == 404
    with _signed_in(live, live.setup.registrars[0].token) as registrar:
        assert registrar.get(f"/learners/{mine.learner_id}").status_code == 200


def test_docs_and_every_asset_are_served_by_the_app(live: LiveDemo) -> None:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        docs = client.get("/docs")
        assert docs.status_code == 200 and "cdn" not in docs.text.lower()
        for asset in re.findall(r'(?:src|href)="(/[^"]+)"', docs.text):
            got = client.get(asset)
            assert got.status_code == 200 and len(got.content) > 100, asset


def test_an_admin_issues_and_revokes_a_token_from_the_page(live: LiveDemo) -> None:
    learner = live.setup.learners[0]
    with _signed_in(live, live.setup.admin.token) as admin:
        csrf = _csrf(admin, "/admin")
        issued = admin.post(
            "/admin/tokens",
            data={"csrf_token": csrf, "kind": "learner", "subject": learner.learner_id},
        )
        assert issued.status_code == 200
        found = re.search(r'<code id="new-token">(cbt_[^<]+)</code>', issued.text)
        assert found is not None
        token = found.group(1)
        balance = f"{live.url}/v1/learners/{learner.learner_id}/balance"
        bearer = {"Authorization": f"Bearer {token}"}
        assert httpx.get(balance, headers=bearer).status_code == 200
        from creditbank.accounts.tokens import hash_token

        revoked = admin.post(
            "/admin/tokens/revoke", data={"csrf_token": csrf, "token_hash": hash_token(token)}
        )
        assert revoked.status_code == 200
        assert httpx.get(balance, headers=bearer).status_code == 401
        refused = admin.post("/admin/tokens/revoke", data={"token_hash": hash_token(token)})
        assert refused.status_code == 403
    with _signed_in(live, live.setup.registrars[0].token) as registrar:
        assert registrar.get("/admin").status_code == 404
