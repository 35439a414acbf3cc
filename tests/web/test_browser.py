"""The pages in a real Chromium (Debian's, through Playwright): what a person sees and can do."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest

from creditbank.web.i18n import load_translations
from creditbank.web.messages import used_messages
from tests.web.conftest import ARTIFACTS, LiveDemo, api, sign_in

_VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    const el = node.parentElement;
    if (!text || !el || !el.checkVisibility()) continue;
    out.push(text);
  }
  for (const el of document.querySelectorAll("[placeholder], [aria-label]")) {
    for (const name of ["placeholder", "aria-label"]) {
      if (el.getAttribute(name)) out.push(el.getAttribute(name).trim());
    }
  }
  return out;
}"""
_SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def _learner_pages(live: LiveDemo) -> list[str]:
    learner = live.setup.learners[0]
    return [
        "/",
        "/sign-in",
        "/catalogue",
        "/catalogue?q=%E8%BD%A6",
        "/log",
        "/log/entries/2",
        f"/learners/{learner.learner_id}",
    ]


def test_a_worker_sees_the_same_totals_as_the_balance_api(context: Any, live: LiveDemo) -> None:
    learner = live.setup.learners[0]
    page = context.new_page()
    sign_in(page, learner.token)
    assert page.url.endswith(f"/learners/{learner.learner_id}")
    with api(live, learner.token) as client:
        balance = client.get(f"/v1/learners/{learner.learner_id}/balance").json()
    shown = page.locator("[data-total=recognised]").inner_text()
    assert Decimal(shown) == Decimal(balance["total_recognised"])
    assert Decimal(page.locator("[data-total=banked]").inner_text()) == Decimal(
        balance["banked_credits"]
    )
    assert balance["programmes"], "the demo learner has recognised credits"
    for programme in balance["programmes"]:
        code = programme["programme_code"]
        cell = page.locator(f"[data-recognised='{code}']").inner_text()
        assert Decimal(cell) == Decimal(programme["recognised"])
    for certificate in balance["certificates"]:
        assert certificate["certificate_id"] in page.content()


def test_a_worker_opening_another_learners_page_gets_404(context: Any, live: LiveDemo) -> None:
    mine, theirs = live.setup.learners[0], live.setup.learners[1]
    page = context.new_page()
    sign_in(page, mine.token)
    answer = page.goto(f"/learners/{theirs.learner_id}")
    assert answer is not None and answer.status == 404
    assert page.locator("h1").inner_text() == "页面不存在"
    assert theirs.name not in page.content()


def test_the_what_if_form_plans_with_a_certificate_not_yet_earned(
    context: Any, live: LiveDemo
) -> None:
    learner = live.setup.learners[1]
    page = context.new_page()
    sign_in(page, learner.token)
    page.select_option("#level", "5")
    page.click("#whatif-h ~ form button")
    page.wait_for_load_state()
    assert "qualification=" in page.url
    assert page.locator("#what-if-result").is_visible()


def test_the_language_switch_changes_every_visible_string(context: Any, live: LiveDemo) -> None:
    translations = load_translations()["zh_CN"].messages
    english = {m for m in used_messages() if m in translations}
    chinese = {translations[m] for m in english}
    page = context.new_page()
    sign_in(page, live.setup.learners[0].token)
    for path in _learner_pages(live):
        page.goto(path)
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        zh_texts = set(page.evaluate(_VISIBLE_TEXT))
        untranslated = sorted(zh_texts & english - {"API"})
        assert not untranslated, f"{path} shows English in Chinese mode: {untranslated}"
    page.goto("/catalogue")
    page.click("header button[name=language]")
    page.wait_for_load_state()
    for path in _learner_pages(live):  # remembered across pages
        page.goto(path)
        assert page.locator("html").get_attribute("lang") == "en"
        en_texts = set(page.evaluate(_VISIBLE_TEXT))
        left = sorted(en_texts & chinese)
        assert not left, f"{path} still shows Chinese interface text in English mode: {left}"
    page.click("header button[name=language]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-CN"


def test_no_request_leaves_this_machine(context: Any, live: LiveDemo) -> None:
    page = context.new_page()
    sign_in(page, live.setup.learners[0].token)
    assert page.goto("/redoc").status == 404  # type: ignore[union-attr]  (FastAPI's CDN page)
    for path in [*_learner_pages(live), "/docs"]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
    assert page.locator(".swagger-ui").count() == 1  # /docs rendered from local assets
    here = urlsplit(live.url).netloc
    # data: and blob: URLs are made inside the page; anything with a host must be this server.
    foreign = [
        url
        for url in context.requested
        if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc != here
    ]
    assert foreign == []
    assert any(url.startswith(live.url + "/static/swagger/") for url in context.requested)


@pytest.mark.parametrize("width", [375, 1280])
def test_no_page_scrolls_sideways_and_screenshots(browser: Any, live: LiveDemo, width: int) -> None:
    ctx = browser.new_context(base_url=live.url, viewport={"width": width, "height": 800})
    try:
        page = ctx.new_page()
        sign_in(page, live.setup.learners[0].token)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for path in _learner_pages(live):
            page.goto(path)
            overflow = page.evaluate(_SIDEWAYS)
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}px"
            name = re.sub(r"[^a-z0-9]+", "-", path.split("?")[0].lower()).strip("-") or "home"
            name = "learner" if name.startswith("learners") else name
            page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    finally:
        ctx.close()


def test_signing_in_with_the_keyboard_alone(context: Any, live: LiveDemo) -> None:
    learner = live.setup.learners[0]
    page = context.new_page()
    page.goto("/sign-in")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == "token":
            break
    else:
        raise AssertionError("the token field cannot be reached with Tab")
    page.keyboard.type(learner.token)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/learners/{learner.learner_id}")
    assert page.locator("label[for=programme]").count() == 1  # inputs have labels


def _serve(body: str) -> Any:
    return lambda route: route.fulfill(body=body, content_type="text/html")


def test_a_cross_site_form_post_is_refused(context: Any, live: LiveDemo) -> None:
    """A page on another site posts the sign-out form: no session cookie, no CSRF pair: 403."""
    page = context.new_page()
    sign_in(page, live.setup.learners[0].token)
    evil = "http://evil.invalid/"
    form = (
        f'<form method="post" action="{live.url}/sign-out">'
        '<input name="csrf_token" value="guessed"><input name="everywhere" value="1">'
        '<button id="go">go</button></form>'
    )
    context.route(evil, lambda route: route.fulfill(body=form, content_type="text/html"))
    page.goto(evil)
    with page.expect_response(f"{live.url}/sign-out") as posted:
        page.click("#go")
    assert posted.value.status == 403
    page.goto(f"/learners/{live.setup.learners[0].learner_id}")
    assert page.locator("[data-total=recognised]").count() == 1  # still signed in

    # The operations forms (file checks that lead to signing) refuse a cross-site post too.
    size = live.bank.log.size()
    for token, action in (
        (live.setup.registrars[0].token, "/registrar/imports/preview"),
        (live.setup.providers[0].token, "/provider/imports/preview"),
    ):
        sign_in(page, token)
        upload = (
            f'<form method="post" enctype="multipart/form-data" action="{live.url}{action}">'
            '<input name="csrf_token" value="guessed"><input name="kind" value="learners">'
            '<button id="go">go</button></form>'
        )
        context.unroute(evil)
        context.route(evil, _serve(upload))
        page.goto(evil)
        with page.expect_response(f"{live.url}{action}") as posted:
            page.click("#go")
        assert posted.value.status == 403, action
    assert live.bank.log.size() == size


def test_registrar_provider_and_admin_pages_in_chinese_at_375px(
    browser: Any, live: LiveDemo
) -> None:
    translations = load_translations()["zh_CN"].messages
    english = {m for m in used_messages() if m in translations}
    learner = live.setup.learners[0]
    programme = live.setup.programmes[learner.learner_id]
    pages = {
        live.setup.registrars[0].token: [
            "/registrar",
            f"/registrar/plan?learner_id={learner.learner_id}&programme={programme}",
            f"/learners/{learner.learner_id}",
            "/registrar/imports",
            "/reports",
            "/keys",
        ],
        live.setup.providers[0].token: ["/provider", "/provider/imports", "/reports?provider"],
        live.setup.admin.token: ["/admin", "/admin/audit", "/reports?admin"],
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for token, paths in pages.items():
        ctx = browser.new_context(base_url=live.url, viewport={"width": 375, "height": 800})
        try:
            page = ctx.new_page()
            sign_in(page, token)
            for path in paths:
                page.goto(path)
                untranslated = sorted(set(page.evaluate(_VISIBLE_TEXT)) & english - {"API"})
                assert not untranslated, f"{path} shows English in Chinese mode: {untranslated}"
                overflow = page.evaluate(_SIDEWAYS)
                assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 375px"
                name = path.strip("/").split("?")[0].split("/")[0]
                if "plan" in path:
                    name = "registrar-plan"
                elif path.endswith(("/imports", "/audit")) or "?" in path:
                    name = re.sub(r"[^a-z]+", "-", path.strip("/"))  # admin-audit, reports-admin
                page.screenshot(path=str(ARTIFACTS / f"{name}-375.png"), full_page=True)
        finally:
            ctx.close()
