"""Every string the web app shows has a Simplified Chinese translation (the default language)."""

from __future__ import annotations

from creditbank.web.i18n import html_lang, load_translations
from creditbank.web.messages import missing_translations, used_messages


def test_every_string_the_pages_use_is_translated_into_chinese() -> None:
    assert len(used_messages()) > 50  # the extraction really found the templates' strings
    assert missing_translations("zh_CN") == []


def test_translations_are_chinese_and_english_falls_back_to_the_source() -> None:
    translations = load_translations()
    zh, en = translations["zh_CN"], translations["en"]
    assert zh.gettext("Sign in") == "登录"
    assert en.gettext("Sign in") == "Sign in"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in zh.messages.values()), (
        "a zh_CN msgstr holds no Chinese character"
    )
    assert html_lang("zh_CN") == "zh-CN"
