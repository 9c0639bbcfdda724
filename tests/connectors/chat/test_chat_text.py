"""Turning vendor HTML into text, also from several threads at once."""

from __future__ import annotations

import threading

from connectors.chat.common import customer_key, html_to_text


def test_html_bodies_become_readable_text() -> None:
    assert html_to_text("<p>Hi <b>Rita</b>,</p><p>it&#39;s done &amp; refunded.</p>") == (
        "Hi Rita,\n\nit's done & refunded.")
    assert html_to_text("<ul><li>one</li><li>two</li></ul>") == "* one\n* two"
    assert html_to_text("plain words ") == "plain words"
    assert html_to_text(None) == "" and html_to_text("<p></p>") == ""


def test_conversion_does_not_touch_the_shared_css_profile() -> None:
    """inscriptis attaches each document's canvas to the shared profile's `body` element;
    threads converting at once then lose text. Ours must leave the shared profile alone."""
    from inscriptis.css_profiles import CSS_PROFILES
    from inscriptis.model.config import DEFAULT_CSS_PROFILE_NAME

    body = CSS_PROFILES[DEFAULT_CSS_PROFILE_NAME]["body"]
    before = getattr(body, "canvas", None)
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(html_to_text("<p>a <i>b</i></p>")))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["a b"] * 4
    assert getattr(body, "canvas", None) is before


def test_customer_keys() -> None:
    assert customer_key("zendesk", email=" Rita@Example.COM ", phone="+14155550142") == (
        "rita@example.com")
    assert customer_key("front", phone="+1 (415) 555-0134") == "+14155550134"
    assert customer_key("front", phone="not a phone", user_id="alt:77") == "front:alt:77"
    assert customer_key("intercom") is None
