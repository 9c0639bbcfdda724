"""MIME parsing of real-world messages: charsets, structure, dates, HTML, attachments, quotes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from mailtesting import make_mail, real_world_corpus

from connectors.email.parse import MessageParseError, normalise_subject, parse_message

RECEIVED = datetime(2026, 3, 4, 8, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def corpus() -> dict[str, bytes]:
    return real_world_corpus()


def parse(raw: bytes, **kw: object):  # type: ignore[no-untyped-def]
    return parse_message(raw, fallback_date=RECEIVED, **kw)  # type: ignore[arg-type]


def test_odd_charsets_decode_to_the_right_text(corpus: dict[str, bytes]) -> None:
    jp = parse(corpus["iso2022jp"])
    assert (jp.from_name, jp.subject) == ("山田 太郎", "返金のお願い")
    assert jp.text == "返金をお願いします。注文番号は1234です。"
    assert jp.sent_at == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # +0900 -> UTC

    win = parse(corpus["windows1252"])
    assert win.from_name == "Zoë Müller"  # raw 8-bit header, read as the declared charset
    assert win.text == "Ich habe 49,90 € bezahlt – “doppelt”! Bitte prüfen."

    ru = parse(corpus["koi8r"])
    assert ru.subject == "Возврат платежа"
    assert ru.text == "Верните, пожалуйста, деньги за заказ. Спасибо."

    fr = parse(corpus["undeclared_8bit"])
    assert fr.from_name == "François" and fr.subject == "Problème de facture"
    assert "débité est trop élevé" in fr.text

    de = parse(corpus["unknown_charset"])  # declared charset does not exist: detected
    assert "Das Gerät ist kaputt" in de.text


def test_nested_multipart_prefers_plain_and_lists_attachments(corpus: dict[str, bytes]) -> None:
    p = parse(corpus["nested"])
    assert p.body_kind == "plain"
    assert p.text == "The parcel arrived broken, see the photos."
    got = {(a.filename, a.content_type) for a in p.attachments}
    assert got == {
        ("inline.png", "image/png"),
        ("receipt.pdf", "application/pdf"),
        ("Delivery confirmation", "message/rfc822"),
    }
    pdf = next(a for a in p.attachments if a.filename == "receipt.pdf")
    assert pdf.size == 5009  # decoded bytes, not the base64 length


def test_html_only_body_becomes_text(corpus: dict[str, bytes]) -> None:
    p = parse(corpus["html_only"])
    assert p.body_kind == "html"
    assert "I want to cancel my subscription." in p.text
    assert "plan: gold" in p.text
    assert "<" not in p.text and "color:red" not in p.text


def test_missing_date_falls_back_to_the_received_time(corpus: dict[str, bytes]) -> None:
    p = parse(corpus["no_date"])
    assert (p.sent_at, p.date_source) == (RECEIVED, "received")
    with pytest.raises(MessageParseError, match="no usable Date"):
        parse_message(corpus["no_date"])


def test_malformed_headers_survive(corpus: dict[str, bytes]) -> None:
    p = parse(corpus["malformed_headers"])
    assert p.from_addr == "broken@example.org"
    assert p.to_addrs == []  # 'undisclosed-recipients:;'
    assert p.date_source == "received"  # 'Date: 32 Foo 2026 99:99:99'
    assert p.message_id == "no-angle-brackets@example.org"
    assert "The headers are broken but the words are fine." in p.text
    assert "MissingHeaderBodySeparatorDefect" in p.defects


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("bad_no_from", "no From header"),
        ("bad_from_without_address", "From header has no e-mail address"),
        ("bad_binary", "not an RFC 5322 message"),
    ],
)
def test_unusable_messages_raise_with_a_reason(
    corpus: dict[str, bytes], name: str, reason: str
) -> None:
    with pytest.raises(MessageParseError, match=reason):
        parse(corpus[name])


def test_empty_message_is_unusable() -> None:
    with pytest.raises(MessageParseError, match="empty"):
        parse(b"  \r\n")


@pytest.mark.slow
def test_25_mb_attachment_is_metadata_only() -> None:
    raw = real_world_corpus(big_attachment_mb=25)["big_attachment"]
    assert len(raw) > 25 * 1024 * 1024
    p = parse(raw)
    assert p.text == "Attached is the export you asked for."
    [att] = p.attachments
    assert (att.filename, att.content_type, att.size) == ("export.zip", "application/zip",
                                                          25 * 1024 * 1024)  # fmt: skip


def test_quoted_reply_and_signature_are_stripped() -> None:
    body = (
        "Hi Dana,\n\nthe refund still has not arrived. Please escalate.\n"
        "- order 1234\n- order 1235\n\n"
        "Best regards,\nAnna\nSent from my phone\n\n"
        "On Mon, 2 Mar 2026 at 10:00, Dana <dana@acme.test> wrote:\n"
        "> We have issued the refund.\n> It takes 5 days.\n"
    )
    p = parse(make_mail(1, body=body))
    assert p.quotes_stripped
    assert p.text == (
        "Hi Dana,\n\nthe refund still has not arrived. Please escalate.\n"
        "- order 1234\n- order 1235"
    )
    outlook = (
        "Thanks for the quick answer!\n\n-----Original Message-----\n"
        "From: Dana\nSent: Monday\nTo: Anna\nSubject: refund\n\nWe have issued the refund."
    )
    assert parse(make_mail(2, body=outlook)).text == "Thanks for the quick answer!"
    whole = parse(make_mail(3, body="> only a quote\n> nothing new"))
    assert whole.text == "> only a quote\n> nothing new"  # never strip a message to nothing
    kept = parse(make_mail(4, body=body), strip_quotes=False)
    assert "We have issued the refund." in kept.text and not kept.quotes_stripped


def test_content_hash_ignores_transport_headers_but_not_content() -> None:
    raw = make_mail(1)
    relayed = b"Received: from mx1 by mx2; Tue, 3 Mar 2026 10:00:00 +0000\r\n" + raw
    assert parse(raw).content_hash == parse(relayed).content_hash
    assert parse(raw).content_hash != parse(make_mail(1, body="different")).content_hash


def test_threading_headers_and_missing_message_id() -> None:
    p = parse(make_mail(5, reply_to="m4@test", refs=["m1@test", "m4@test"]))
    assert (p.message_id, p.in_reply_to, p.references) == ("m5@test", ["m4@test"],
                                                           ["m1@test", "m4@test"])  # fmt: skip
    no_id = make_mail(6).replace(b"Message-ID: <m6@test>\n", b"")
    q = parse(no_id)
    assert not q.has_message_id and q.message_id == f"sha256:{q.content_hash}"


@pytest.mark.parametrize(
    ("subject", "normal"),
    [
        ("RE: Fwd: AW:  Refund   please", "refund please"),
        ("Re[2]: Invoice", "invoice"),
        ("SV: VS: Tilaus", "tilaus"),
        ("Réponse about Re: in the middle", "réponse about re: in the middle"),
        ("", ""),
    ],
)
def test_normalise_subject(subject: str, normal: str) -> None:
    assert normalise_subject(subject) == normal
