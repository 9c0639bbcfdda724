"""Redaction: written and spoken card numbers (Luhn), SSNs, phones, e-mails, IBANs."""

from __future__ import annotations

import pytest

from analysis.redaction import RedactionOptions, luhn_ok, redact


@pytest.mark.parametrize(
    "text",
    [
        "my card is 4111 1111 1111 1111 thanks",
        "my card is 4111-1111-1111-1111 thanks",
        "my card is 4111111111111111 thanks",
        "my card is four one one one one one one one one one one one one one one one thanks",
        "it's four one one one, double one double one, one one one one, triple one one thanks",
        "it is four one one one dash one one one one dash one one one one dash one one one one",
        "card 5500 0000 0000 0004 thanks",
    ],
)
def test_card_numbers_written_and_spoken_are_redacted(text: str) -> None:
    r = redact(text)
    (span,) = r.spans
    assert span.kind == "CARD"
    # everything around the span is kept, the span itself becomes the marker
    assert r.text == text[: span.start] + "[PII:CARD]" + text[span.end :]
    assert not any(ch.isdigit() for ch in r.text)
    assert " one " not in r.text and "four" not in r.text


def test_non_luhn_number_is_not_a_card() -> None:
    assert not luhn_ok("4111111111111112")
    for text in ("order 4111 1111 1111 1112 shipped", "order four one one one one one one one one one one one one one one two"):
        r = redact(text)
        assert "CARD" not in r.text
        assert not [s for s in r.spans if s.kind == "CARD"]


def test_ssn_phone_email_iban() -> None:
    r = redact("SSN 123-45-6789, call +44 20 7946 0958, mail jane.doe@example.com, IBAN GB82 WEST 1234 5698 7654 32.")
    assert r.text == "SSN [PII:SSN], call [PII:PHONE], mail [PII:EMAIL], IBAN [PII:IBAN]."
    assert [s.kind for s in r.spans] == ["SSN", "PHONE", "EMAIL", "IBAN"]


def test_spoken_phone_with_double_and_oh() -> None:
    r = redact("you can reach me on four one five, double five five, oh one three four")
    assert r.text == "you can reach me on [PII:PHONE]"


def test_bad_iban_checksum_and_ordinary_numbers_are_kept() -> None:
    text = "IBAN GB83 WEST 1234 5698 7654 32, paid 25.99 on 12/03/2024, oh no, one or two"
    assert redact(text).text == text


def test_kinds_option_limits_what_is_redacted() -> None:
    r = redact("mail a@b.co card 4111 1111 1111 1111", RedactionOptions(kinds=["email"]))
    assert r.text == "mail [PII:EMAIL] card 4111 1111 1111 1111"
    with pytest.raises(ValueError, match="unknown"):
        RedactionOptions(kinds=["passport"])
