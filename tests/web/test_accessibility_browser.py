"""WCAG AA colour contrast and keyboard-only use, measured in Chromium on the real pages.

Contrast: every element that shows text of its own is measured with the colours Chromium computed
for it (its colour over the first opaque background behind it, translucent layers blended), and
must reach 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold) — WCAG 2.2 SC 1.4.3. Progress
bars and the keyboard focus ring are non-text indicators and must reach 3:1 against what is
behind them (SC 1.4.11). The states a walk through the pages does not reach (an error, a
confirmation, a hint, a revoked row) are measured by adding one element of each class to a page.

Keyboard: sign in and use a form with the Tab and Enter keys alone, and every element that gets
the focus on the way shows a focus ring that can be seen.
"""

from __future__ import annotations

from typing import Any

from tests.web.conftest import LiveDemo

_CONTRAST = """() => {
  const parse = (text) => {
    const m = text && text.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => [0, 1, 2].map((i) => top[i] * top[3] + bottom[i] * (1 - top[3])).concat(1);
  const behind = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    return layers.reverse().reduce((acc, layer) => over(layer, acc), [255, 255, 255, 1]);
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const out = [];
  const name = (el) => el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ").join(".") : "")
    + (el.id ? "#" + el.id : "");
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
    if (el.matches(":disabled")) continue;  // inactive controls are exempt (SC 1.4.3)
    const style = getComputedStyle(el);
    const bg = behind(el);
    const fg = over(parse(style.color), bg);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (Number(style.fontWeight) >= 700 && size >= 18.66);
    out.push({ what: name(el), text: el.textContent.trim().slice(0, 40), ratio: ratio(fg, bg),
               need: large ? 3 : 4.5, colour: style.color, background: `rgb(${bg.slice(0, 3).map(Math.round)})` });
  }
  for (const el of document.querySelectorAll("progress")) {
    const bg = behind(el.parentElement);
    const bar = parse(getComputedStyle(el).accentColor);
    out.push({ what: "progress", text: el.value + "/" + el.max, ratio: bar ? ratio(bar, bg) : 0, need: 3,
               colour: getComputedStyle(el).accentColor, background: `rgb(${bg.slice(0, 3).map(Math.round)})` });
  }
  return out;
}"""

#: One element of each class the pages use for states a plain walk does not reach.
_STATES = """() => {
  const box = document.createElement("div");
  box.id = "contrast-states";
  box.innerHTML = '<p class="error">出错了</p><p class="ok">已完成</p><p class="hint">提示</p>'
    + '<table><tr class="revoked"><td>已撤销</td></tr></table><p><a href="#">链接</a> <span class="code">L-1</span></p>'
    + '<form class="signed-write"><p class="preview">您将签名</p><p role="status" class="error">错误</p></form>';
  document.querySelector("main").append(box);
}"""

_FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  let bg = null;
  for (let e = el.parentElement; e && !bg; e = e.parentElement) {
    const c = getComputedStyle(e).backgroundColor;
    if (c && !c.endsWith(", 0)")) bg = c;
  }
  return { id: el.id, tag: el.tagName.toLowerCase(), outline: style.outlineStyle,
           width: parseFloat(style.outlineWidth), colour: style.outlineColor, background: bg || "rgb(255, 255, 255)" };
}"""


def _lum(rgb: str) -> float:
    values = [float(v) for v in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]

    def channel(v: float) -> float:
        v /= 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in values)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _ratio(a: str, b: str) -> float:
    x, y = sorted((_lum(a), _lum(b)), reverse=True)
    return (x + 0.05) / (y + 0.05)


def _pages(live: LiveDemo) -> dict[str, list[str]]:
    learner = live.setup.learners[0]
    programme = live.setup.programmes[learner.learner_id]
    return {
        learner.token: [
            "/",
            "/sign-in",
            "/catalogue",
            "/log",
            "/log/entries/2",
            "/verify",
            f"/learners/{learner.learner_id}?qualification=6-31-01-03&level=3",
        ],
        live.setup.registrars[0].token: [
            "/registrar",
            f"/registrar/plan?learner_id={learner.learner_id}&programme={programme}",
            "/keys",
        ],
        live.setup.providers[0].token: ["/provider"],
        live.setup.admin.token: ["/admin"],
    }


def test_text_and_indicators_meet_wcag_aa_contrast(browser: Any, live: LiveDemo) -> None:
    from tests.web.conftest import sign_in

    failures: list[str] = []
    measured = 0
    for token, paths in _pages(live).items():
        ctx = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 900})
        try:
            page = ctx.new_page()
            sign_in(page, token)
            for number, path in enumerate(paths):
                page.goto(path)
                if number == 0:
                    page.evaluate(_STATES)
                for item in page.evaluate(_CONTRAST):
                    measured += 1
                    if item["ratio"] < item["need"]:
                        failures.append(
                            f"{path} {item['what']} {item['text']!r}: {item['ratio']:.2f}:1 "
                            f"({item['colour']} on {item['background']}), needs {item['need']}:1"
                        )
        finally:
            ctx.close()
    assert measured > 300, "the walk measured the pages' text"
    assert not failures, "\n".join(sorted(set(failures)))


def _tab_to(page: Any, target: str, seen: list[dict[str, Any]], limit: int = 60) -> None:
    """Press Tab until ``target`` (a CSS selector) has the focus, recording every stop."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focus = page.evaluate(_FOCUS)
        if focus is not None:
            seen.append(focus)
        if page.evaluate("(sel) => document.activeElement.matches(sel)", target):
            return
    raise AssertionError(f"{target} cannot be reached with Tab")


def test_sign_in_and_a_form_with_the_keyboard_alone_and_a_visible_focus(
    context: Any, live: LiveDemo
) -> None:
    learner = live.setup.learners[1]
    page = context.new_page()
    page.goto("/sign-in")
    seen: list[dict[str, Any]] = []
    _tab_to(page, "#token", seen)
    page.keyboard.type(learner.token)
    _tab_to(page, "main form button[type=submit]", seen)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/learners/{learner.learner_id}")
    # The what-if form: choose a level with the arrow keys, then submit with Enter.
    _tab_to(page, "#level", seen)
    page.keyboard.press("ArrowDown")
    _tab_to(page, "#whatif-h ~ form button[type=submit]", seen)
    page.keyboard.press("Enter")
    page.wait_for_url("**qualification=**")
    assert page.locator("#what-if-result").is_visible()
    assert len(seen) >= 5
    for focus in seen:
        what = f"{focus['tag']}#{focus['id']}"
        assert focus["outline"] != "none" and focus["width"] >= 2, f"{what} shows no focus ring"
        contrast = _ratio(focus["colour"], focus["background"])
        assert contrast >= 3, (
            f"{what}: focus ring {focus['colour']} on {focus['background']} is {contrast:.2f}:1"
        )
